//! `/account`: who you are, your clusters and roles, your password, two-factor sign-in, your
//! signed-in sessions ([`sessions`]) and your security log ([`security_log`]).

mod security_log;
mod sessions;

use leptos::prelude::*;
use leptos_meta::Title;
use proto::rules;

use crate::api::ChangePassword;
use crate::api::account::{RevokeOtherSessions, RevokeSession};
use crate::components::forms::{Field, FormError, SubmitButton, error_of};
use crate::components::layout::Session;
use crate::components::page::PageHeader;
use security_log::SecurityLog;
use sessions::SessionsSection;

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let user = session.user.get_value();
    let change = ServerAction::<ChangePassword>::new();
    let error = error_of(change.value());
    let saved = move || matches!(change.value().get(), Some(Ok(())));
    let revoke = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let log_versions = [change.version(), revoke.version(), revoke_others.version()];

    view! {
        <Title text="Account" />
        <PageHeader title="Account">{user.name.clone()} " · " {user.email.clone()}</PageHeader>
        <section class="settings-section" aria-labelledby="clusters-title">
            <h2 id="clusters-title">"Your clusters"</h2>
            <ul class="cluster-list">
                {move || {
                    session
                        .clusters
                        .get()
                        .into_iter()
                        .map(|c| {
                            view! {
                                <li class="cluster-row">
                                    <span class="cluster-name">{c.name}</span>
                                    <span class=format!("badge badge-{}", c.role.as_str())>{c.role.label()}</span>
                                    <a class="btn btn-secondary btn-small" href=format!("/c/{}", c.id)>"Open"</a>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <a class="btn btn-secondary" href="/clusters/new">"+ New cluster"</a>
        </section>
        <section class="settings-section" aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            <p class="section-text">"Changing it signs you out everywhere else."</p>
            <ActionForm action=change attr:class="form">
                <FormError error />
                {move || saved().then(|| view! { <div class="form-success" role="status">"Password changed. Other sessions were signed out."</div> })}
                <Field id="current-password" label="Current password" name="current_password" error
                    kind="password" required=true autocomplete="current-password" />
                <Field id="new-password" label="New password" name="new_password" error
                    kind="password" required=true autocomplete="new-password"
                    minlength=rules::PASSWORD_MIN />
                <SubmitButton label="Change password" busy_label="Saving…" pending=change.pending().into() class="btn btn-primary" />
            </ActionForm>
        </section>
        <crate::components::two_factor::TwoFactorSection />
        <SessionsSection revoke revoke_others />
        <SecurityLog versions=log_versions />
    }
}
