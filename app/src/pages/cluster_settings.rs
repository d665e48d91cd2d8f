//! `/c/{cluster}/settings`: rename the cluster (Owner and Admin; others see why they cannot) and,
//! for the Owner, require two-factor sign-in of members and delete the cluster (typing its name
//! to confirm).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use proto::api::Role;

use crate::api::{DeleteCluster, RenameCluster};
use crate::components::cluster_two_factor::ClusterTwoFactor;
use crate::components::forms::{Field, FormError, SubmitButton, error_of};
use crate::components::layout::Session;
use crate::components::page::PageHeader;
use crate::components::two_factor::{StepUpDialog, step_up_retry};

#[component]
pub fn ClusterSettingsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let cluster_id = move || params.read().get("cluster").unwrap_or_default();
    let cluster = move || {
        session
            .clusters
            .get()
            .into_iter()
            .find(|c| c.id == cluster_id())
    };
    let rename = ServerAction::<RenameCluster>::new();
    let error = error_of(rename.value());
    Effect::new(move |_| {
        if let Some(Ok(updated)) = rename.value().get() {
            session.replace_cluster(updated);
        }
    });
    let saved = move || matches!(rename.value().get(), Some(Ok(_)));

    view! {
        <Title text="Cluster settings" />
        <PageHeader title="Cluster settings">
            {move || cluster().map(|c| c.name).unwrap_or_default()}
        </PageHeader>
        {move || match cluster() {
            None => view! { <p class="form-error" role="alert">"This cluster does not exist, or you cannot see it."</p> }.into_any(),
            Some(c) => {
                let may = matches!(c.role, Role::Owner | Role::Admin);
                let two_factor = view! { <ClusterTwoFactor cluster_id=c.id.clone() owner=c.role == Role::Owner /> };
                let danger = (c.role == Role::Owner).then(|| view! { <DangerZone cluster_id=c.id.clone() name=c.name.clone() /> });
                view! {
                    <section class="settings-section" aria-labelledby="rename-title">
                        <h2 id="rename-title">"Name"</h2>
                        <p class="section-text">"Shown in the cluster switcher and to everyone in this cluster."</p>
                        {(!may).then(|| view! {
                            <p class="muted">"Only Owners and Admins can rename a cluster. Your role: " {c.role.label()} "."</p>
                        })}
                        <ActionForm action=rename attr:class="form">
                            <FormError error />
                            {move || saved().then(|| view! { <div class="form-success" role="status">"Saved."</div> })}
                            <input type="hidden" name="cluster_id" value=c.id.clone() />
                            <Field id="cluster-name" label="Cluster name" name="name" error required=true
                                maxlength=proto::rules::NAME_MAX value=c.name.clone() disabled=!may />
                            {may.then(|| view! {
                                <SubmitButton label="Save" busy_label="Saving…" pending=rename.pending().into() class="btn btn-primary" />
                            })}
                        </ActionForm>
                    </section>
                    {two_factor}
                    {danger}
                }
                    .into_any()
            }
        }}
    }
}

/// Deleting the cluster: the button stays disabled until the name is typed exactly; on success
/// the cluster switcher forgets it and the page moves to another cluster (or to "new cluster").
#[component]
fn DangerZone(cluster_id: String, name: String) -> impl IntoView {
    let session = expect_context::<Session>();
    let navigate = leptos_router::hooks::use_navigate();
    let delete = ServerAction::<DeleteCluster>::new();
    let error = error_of(delete.value());
    let typed = RwSignal::new(String::new());
    // Two-factor accounts confirm with a code first; the dialog then deletes again.
    let (asking, retry) = step_up_retry(delete);
    let expected = name.clone();
    let matches = move || typed.get() == expected;
    let gone = cluster_id.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            session.clusters.update(|cs| cs.retain(|c| c.id != gone));
            let next = session
                .clusters
                .get_untracked()
                .first()
                .map(|c| format!("/c/{}", c.id))
                .unwrap_or_else(|| "/clusters/new".to_string());
            navigate(&next, Default::default());
        }
    });
    view! {
        <section class="settings-section danger-zone" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete this cluster"</h2>
            <p class="section-text">
                "Stops and removes every service on its instances, disconnects the instances, and
                 deletes members, invitations, API tokens, environment variables and the events log.
                 This cannot be undone."
            </p>
            <ActionForm action=delete attr:class="form">
                <FormError error />
                <input type="hidden" name="cluster_id" value=cluster_id />
                <div class="field">
                    <label for="confirm-delete">"Type " <strong>{name}</strong> " to confirm"</label>
                    <input id="confirm-delete" type="text" name="confirm" autocomplete="off"
                        on:input=move |ev| typed.set(event_target_value(&ev)) />
                </div>
                <button type="submit" class="btn btn-danger" id="delete-cluster"
                    disabled=move || !matches() || delete.pending().get()>
                    {move || if delete.pending().get() { "Deleting…" } else { "Delete cluster" }}
                </button>
            </ActionForm>
            <StepUpDialog open=asking done=retry />
        </section>
    }
}
