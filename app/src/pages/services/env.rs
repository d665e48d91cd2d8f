//! A service's Environment (Members and up): its variables and secrets with who set each and
//! when, a form to add or overwrite one (a secret's value is never shown again, only replaced),
//! Delete per variable, and, once something changed after the newest deployment, a banner with
//! a one-click redeploy.

use leptos::prelude::*;
use proto::api::{EnvList, EnvVar};

use crate::api::env::{SetEnvVar, UnsetEnvVar, list_env};
use crate::api::services::DeployService;
use crate::components::forms::{
    ConfirmButton, Field, FieldError, FormError, SubmitButton, error_of, field_error, refetched,
};
use crate::components::loaded::Loaded;

/// Created at the service page's top level, not inside a Suspense body (see `show`).
#[component]
pub fn EnvPanel(service_id: String) -> impl IntoView {
    let set = ServerAction::<SetEnvVar>::new();
    let unset = ServerAction::<UnsetEnvVar>::new();
    let redeploy = ServerAction::<DeployService>::new();
    let id = StoredValue::new(service_id);
    let list = refetched(
        Signal::stored(id.get_value()),
        [set.version(), unset.version(), redeploy.version()],
        list_env,
    );
    let error = error_of(set.value());
    let value_err = field_error(error, "value");
    let unset_error = error_of(unset.value());
    let redeploy_error = error_of(redeploy.value());
    // Filled by "Overwrite": the form then replaces that variable.
    let key = RwSignal::new(String::new());
    view! {
        <section class="settings-section env-section" aria-labelledby="env-title">
            <h2 id="env-title">"Environment"</h2>
            <p class="section-text">
                "Secrets are encrypted at rest and never shown again: overwrite or delete them. "
                "Changes apply from the next deployment."
            </p>
            <Loaded resource=list keep=true inline=true let:env>
                <EnvTable env key unset redeploy service_id=id.get_value() />
            </Loaded>
            <FormError error=unset_error />
            <FormError error=redeploy_error />
            <ActionForm action=set attr:class="form env-form" attr:id="env-form">
                <input type="hidden" name="service_id" value=id.get_value() />
                <Field id="env-key" label="Name" name="key" error class="mono" autocomplete="off"
                    placeholder="DATABASE_URL" bind=key />
                <div class="field">
                    <label for="env-value">"Value"</label>
                    <textarea id="env-value" name="value" rows="2" class="mono" autocomplete="off"
                        aria-invalid=move || value_err.get().is_some().then_some("true")
                        aria-describedby="env-value-error"></textarea>
                    <FieldError id="env-value-error" message=value_err />
                </div>
                <label class="checkbox">
                    <input id="env-secret" type="checkbox" name="secret" checked=true />
                    " Secret (write-only)"
                </label>
                <FormError error />
                <SubmitButton label="Save variable" busy_label="Saving…" pending=set.pending().into()
                    class="btn btn-primary" />
            </ActionForm>
        </section>
    }
}

#[component]
fn EnvTable(
    env: EnvList,
    key: RwSignal<String>,
    unset: ServerAction<UnsetEnvVar>,
    redeploy: ServerAction<DeployService>,
    service_id: String,
) -> impl IntoView {
    let banner = env.changed_since_deploy.then(|| {
        let service_id = service_id.clone();
        view! {
            <div class="env-changed" role="status" id="env-changed">
                "Env changed, redeploy to apply."
                <button type="button" class="btn btn-secondary" id="env-redeploy"
                    disabled=move || redeploy.pending().get()
                    on:click=move |_| {
                        redeploy.dispatch(DeployService { service_id: service_id.clone(), git_ref: String::new() });
                    }>
                    {move || if redeploy.pending().get() { "Queuing…" } else { "Redeploy" }}
                </button>
            </div>
        }
    });
    let rows = env
        .vars
        .into_iter()
        .map(|v| view! { <EnvRow v key unset service_id=service_id.clone() /> })
        .collect_view();
    view! {
        {banner}
        <table class="table env-table" id="env-table">
            <thead><tr><th>"Name"</th><th>"Value"</th><th>"Set"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn EnvRow(
    v: EnvVar,
    key: RwSignal<String>,
    unset: ServerAction<UnsetEnvVar>,
    service_id: String,
) -> impl IntoView {
    let name = v.key.clone();
    let when = v
        .updated_at
        .get(..16)
        .unwrap_or(&v.updated_at)
        .replace('T', " ");
    let by = v.updated_by.map(|n| format!(" by {n}")).unwrap_or_default();
    let value = match (v.secret, v.value) {
        (true, _) => view! { <span class="badge badge-secret">"secret"</span> }.into_any(),
        (false, Some(value)) => view! { <code>{value}</code> }.into_any(),
        (false, None) => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let (overwrite, delete) = (name.clone(), name.clone());
    let label = name.clone();
    view! {
        <tr data-key=name>
            <td class="mono">{label}</td>
            <td>{value}</td>
            <td class="muted">{format!("set {when} UTC{by}")}</td>
            <td class="row-actions">
                <button type="button" class="btn btn-link" on:click=move |_| key.set(overwrite.clone())>
                    "Overwrite"
                </button>
                <ConfirmButton class="btn btn-link btn-danger-link"
                    question=format!("Delete {delete}? It is removed from the next deployment on.")
                    act=move || {
                        unset.dispatch(UnsetEnvVar { service_id: service_id.clone(), key: delete.clone() });
                    }>
                    "Delete"
                </ConfirmButton>
            </td>
        </tr>
    }
}
