//! The API tokens page's OIDC section: which CI issuers and repositories may trade a job's
//! identity token for a token lasting an hour (`dployr login --oidc`), so no long-lived token
//! is stored in CI. Lists the bindings with their conditions, adds one, removes one.

use leptos::prelude::*;
use proto::api::{OidcBinding, OidcProvider, Role};

use crate::api::oidc::{AddOidcBinding, RemoveOidcBinding, list_oidc_bindings};
use crate::components::forms::{
    ConfirmButton, Field, FieldError, FormError, SubmitButton, error_of, field_error, refetched,
};
use crate::components::loaded::Loaded;

#[component]
pub fn OidcBindings(cluster_id: Signal<String>) -> impl IntoView {
    let add = ServerAction::<AddOidcBinding>::new();
    let remove = ServerAction::<RemoveOidcBinding>::new();
    let bindings = refetched(
        cluster_id,
        [add.version(), remove.version()],
        list_oidc_bindings,
    );
    let error = error_of(add.value());
    let role_err = field_error(error, "role");
    let remove_error = error_of(remove.value());
    let added = move || matches!(add.value().get(), Some(Ok(_)));
    view! {
        <section class="settings-section" aria-labelledby="oidc-title">
            <h2 id="oidc-title">"CI without a stored token (OIDC)"</h2>
            <p class="section-text">
                "A GitHub Actions or GitLab CI job of a repository named here signs in with its own identity token ("
                <code>"dployr login --oidc"</code>
                ") and gets a token for this cluster that lasts one hour. Pull requests and unprotected GitLab refs are refused."
            </p>
            <Loaded resource=bindings keep=true let:list>
                {if list.is_empty() {
                    view! { <p class="muted" id="no-oidc-bindings">"No repositories trusted yet."</p> }.into_any()
                } else {
                    let rows = list.into_iter().map(|b| view! { <BindingRow b cluster_id remove /> }).collect_view();
                    view! {
                        <table class="table" id="oidc-table">
                            <thead><tr><th>"Repository"</th><th>"Only"</th><th>"Role"</th><th>"Issuer"</th><th></th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }.into_any()
                }}
            </Loaded>
            <FormError error=remove_error />
            <h3>"Trust a repository"</h3>
            <ActionForm action=add attr:class="form" attr:id="oidc-form">
                <input type="hidden" name="cluster_id" value=move || cluster_id.get() />
                <div class="field">
                    <label for="oidc-provider">"CI"</label>
                    <select id="oidc-provider" name="provider">
                        <option value=OidcProvider::Github.as_str() selected=true>"GitHub Actions"</option>
                        <option value=OidcProvider::Gitlab.as_str()>"GitLab CI"</option>
                    </select>
                </div>
                <Field id="oidc-repository" label="Repository" name="repository" error required=true
                    placeholder="acme/shop" />
                <Field id="oidc-ref" label="Only this ref (optional)" name="git_ref" error
                    placeholder="refs/heads/main" />
                <Field id="oidc-environment" label="Only this environment (optional)" name="environment"
                    error placeholder="production" />
                <div class="field">
                    <label for="oidc-role">"Role of the token"</label>
                    <select id="oidc-role" name="role" aria-describedby="oidc-role-error">
                        {[Role::Admin, Role::Member, Role::Guest].iter().map(|r| view! {
                            <option value=r.as_str() selected=*r == Role::Member>{r.label()}</option>
                        }).collect_view()}
                    </select>
                    <FieldError id="oidc-role-error" message=role_err />
                </div>
                <Field id="oidc-issuer" label="Issuer (optional: self-hosted GitLab)" name="issuer" error
                    placeholder="https://gitlab.example.com" />
                <Field id="oidc-audience" label="Audience (optional: this Base's URL)" name="audience" error />
                <FormError error />
                {move || added().then(|| view! { <div class="form-success" role="status">"Trusted."</div> })}
                <SubmitButton label="Trust repository" busy_label="Adding…" pending=add.pending().into()
                    class="btn btn-primary" />
            </ActionForm>
        </section>
    }
}

#[component]
fn BindingRow(
    b: OidcBinding,
    cluster_id: Signal<String>,
    remove: ServerAction<RemoveOidcBinding>,
) -> impl IntoView {
    let only: Vec<String> = [
        b.git_ref.clone(),
        b.environment.clone().map(|e| format!("environment {e}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let only = if only.is_empty() {
        "any ref".to_string()
    } else {
        only.join(", ")
    };
    let id = b.id.clone();
    let repository = b.repository.clone();
    view! {
        <tr data-binding=b.id.clone()>
            <td><span class="mono">{b.repository.clone()}</span></td>
            <td class="muted">{only}</td>
            <td><span class=format!("badge badge-{}", b.role.as_str())>{b.role.label()}</span></td>
            <td class="muted mono">{b.issuer.clone()}</td>
            <td class="row-actions">
                <ConfirmButton class="btn btn-link btn-danger-link"
                    question=format!("Stop trusting {repository}? Its jobs can no longer sign in.")
                    act=move || {
                        remove.dispatch(RemoveOidcBinding { cluster_id: cluster_id.get(), binding_id: id.clone() });
                    }>
                    "Remove"
                </ConfirmButton>
            </td>
        </tr>
    }
}
