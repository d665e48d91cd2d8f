//! `/c/{cluster}/tokens`: API tokens for the CLI and CI (Owners and Admins). A new token's value
//! is shown once, to copy; the list shows role, maker, expiry and last use, and revokes. The
//! [`oidc`] section trusts CI repositories instead, with no stored token.

mod oidc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use proto::api::{ApiToken, Role};

use crate::api::team::{CreateToken, RevokeToken, list_tokens};
use crate::components::forms::{
    ConfirmButton, Field, FieldError, FormError, ShownOnce, SubmitButton, error_of, field_error,
    refetched, value_of,
};
use crate::components::loaded::Loaded;
use crate::components::page::PageHeader;
use crate::components::two_factor::{StepUpDialog, step_up_retry};

#[component]
pub fn TokensPage() -> impl IntoView {
    let params = use_params_map();
    let cluster_id = Signal::derive(move || params.read().get("cluster").unwrap_or_default());
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = refetched(
        cluster_id,
        [create.version(), revoke.version()],
        list_tokens,
    );
    // With two-factor on, a token needs a code in the last 5 minutes: the dialog, then again.
    let (asking, create_again) = step_up_retry(create);
    let error = error_of(create.value());
    let role_err = field_error(error, "role");
    let revoke_error = error_of(revoke.value());
    let made = value_of(create.value());
    view! {
        <Title text="API tokens" />
        <PageHeader title="API tokens">
            "For the dployr CLI and CI: send one as Authorization: Bearer."
        </PageHeader>
        <Loaded resource=tokens keep=true let:list>
            {if list.tokens.is_empty() {
                view! { <p class="muted" id="no-tokens">"No tokens yet."</p> }.into_any()
            } else {
                let rows = list.tokens.into_iter().map(|t| view! { <TokenRow t cluster_id revoke /> }).collect_view();
                view! {
                    <table class="table" id="tokens-table">
                        <thead><tr><th>"Name"</th><th>"Role"</th><th>"Made by"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }.into_any()
            }}
        </Loaded>
        <FormError error=revoke_error />
        <section class="settings-section" aria-labelledby="new-token-title">
            <h2 id="new-token-title">"New token"</h2>
            <p class="section-text">"A token acts for you in this cluster, with at most your role."</p>
            <ActionForm action=create attr:class="form" attr:id="token-form">
                <input type="hidden" name="cluster_id" value=move || cluster_id.get() />
                <Field id="token-name" label="Name" name="name" error required=true
                    placeholder="GitHub Actions" />
                <div class="field">
                    <label for="token-role">"Role"</label>
                    <select id="token-role" name="role" aria-describedby="token-role-error">
                        {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == Role::Member>{r.label()}</option> }).collect_view()}
                    </select>
                    <FieldError id="token-role-error" message=role_err />
                </div>
                <Field id="token-days" label="Expires after (days, empty for never)"
                    name="expires_in_days" error kind="number" min="1" max="3650" value="90" />
                <FormError error />
                <SubmitButton label="Create token" busy_label="Creating…" pending=create.pending().into()
                    class="btn btn-primary" />
            </ActionForm>
            {move || made.get().map(|t| t.token).map(|value| view! {
                <ShownOnce id="new-token" label="Your new token (shown once: copy it now)" value />
            })}
            <StepUpDialog open=asking done=create_again />
        </section>
        <oidc::OidcBindings cluster_id />
    }
}

#[component]
fn TokenRow(
    t: ApiToken,
    cluster_id: Signal<String>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    let day = |s: Option<String>| s.map(|s| s.get(..10).unwrap_or_default().to_string());
    let id = t.id.clone();
    let revoked = t.revoked;
    view! {
        <tr data-token=t.id.clone() data-revoked=revoked.to_string()>
            <td>{t.name.clone()}</td>
            <td><span class=format!("badge badge-{}", t.role.as_str())>{t.role.label()}</span></td>
            <td>{t.created_by.clone().unwrap_or_default()}</td>
            <td class="muted">{day(t.expires_at.clone()).unwrap_or_else(|| "never".into())}</td>
            <td class="muted">{day(t.last_used_at.clone()).unwrap_or_else(|| "never".into())}</td>
            <td class="row-actions">
                {if revoked {
                    view! { <span class="muted">"revoked"</span> }.into_any()
                } else {
                    view! {
                        <ConfirmButton class="btn btn-link btn-danger-link"
                            question="Revoke this token? Anything using it stops at once.".to_string()
                            act=move || {
                                revoke.dispatch(RevokeToken { cluster_id: cluster_id.get(), token_id: id.clone() });
                            }>
                            "Revoke"
                        </ConfirmButton>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
