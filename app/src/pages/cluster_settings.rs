//! `/c/{cluster}/settings`: rename the cluster (Owner and Admin; others see why they cannot).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use proto::api::Role;

use crate::api::RenameCluster;
use crate::components::forms::{FieldError, FormError, SubmitButton, error_of, field_error};
use crate::components::layout::Session;

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
    let name_err = field_error(error, "name");
    Effect::new(move |_| {
        if let Some(Ok(updated)) = rename.value().get() {
            session.replace_cluster(updated);
        }
    });
    let saved = move || matches!(rename.value().get(), Some(Ok(_)));

    view! {
        <Title text="Cluster settings" />
        <div class="page-header">
            <div>
                <h1>"Cluster settings"</h1>
                <p class="page-subtitle">{move || cluster().map(|c| c.name).unwrap_or_default()}</p>
            </div>
        </div>
        {move || match cluster() {
            None => view! { <p class="form-error" role="alert">"This cluster does not exist, or you cannot see it."</p> }.into_any(),
            Some(c) => {
                let may = matches!(c.role, Role::Owner | Role::Admin);
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
                            <div class="field">
                                <label for="cluster-name">"Cluster name"</label>
                                <input
                                    id="cluster-name"
                                    type="text"
                                    name="name"
                                    required
                                    maxlength=proto::rules::NAME_MAX
                                    value=c.name.clone()
                                    disabled=!may
                                    aria-invalid=move || name_err.get().is_some().then_some("true")
                                    aria-describedby="cluster-name-error"
                                />
                                <FieldError id="cluster-name-error" message=name_err />
                            </div>
                            {may.then(|| view! {
                                <SubmitButton label="Save" busy_label="Saving…" pending=rename.pending().into() class="btn btn-primary" />
                            })}
                        </ActionForm>
                    </section>
                }
                    .into_any()
            }
        }}
    }
}
