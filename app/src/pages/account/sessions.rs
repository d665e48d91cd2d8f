//! The account page's "Signed-in sessions": each session's device, address, when it signed in
//! and when it was last used, this one marked; "Sign out" per other session and "Sign out
//! everywhere else". Signing a session out ends its open live views too (server side).

use leptos::prelude::*;
use proto::api::SessionInfo;

use crate::api::account::{RevokeOtherSessions, RevokeSession, list_sessions};
use crate::components::events::short_time;
use crate::components::forms::{ConfirmButton, FormError, error_of, refetched, value_of};
use crate::components::loaded::Loaded;

#[component]
pub fn SessionsSection(
    revoke: ServerAction<RevokeSession>,
    revoke_others: ServerAction<RevokeOtherSessions>,
) -> impl IntoView {
    let sessions = refetched(
        Signal::derive(|| ()),
        [revoke.version(), revoke_others.version()],
        |_| list_sessions(),
    );
    let error = error_of(revoke.value());
    let others_error = error_of(revoke_others.value());
    let others_done = value_of(revoke_others.value());
    view! {
        <section class="settings-section" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Signed-in sessions"</h2>
            <p class="section-text">"Signing a session out ends it at once, open pages included."</p>
            <Loaded resource=sessions keep=true inline=true let:list>
                <ul class="session-list" id="sessions">
                    {list.sessions.into_iter().map(|s| view! { <SessionRow s revoke /> }).collect_view()}
                </ul>
            </Loaded>
            <FormError error />
            <FormError error=others_error />
            {move || others_done.get().map(|done| view! {
                <div class="form-success" role="status" id="sessions-signed-out">
                    {match done.revoked {
                        1 => "Signed out 1 other session.".to_string(),
                        n => format!("Signed out {n} other sessions."),
                    }}
                </div>
            })}
            <ConfirmButton class="btn btn-secondary"
                question="Sign out every other session? Only this one stays signed in.".to_string()
                act=move || { revoke_others.dispatch(RevokeOtherSessions {}); }>
                "Sign out everywhere else"
            </ConfirmButton>
        </section>
    }
}

#[component]
fn SessionRow(s: SessionInfo, revoke: ServerAction<RevokeSession>) -> impl IntoView {
    let id = s.id.clone();
    let used = s
        .last_used_at
        .as_deref()
        .map(|t| format!("last used {}", short_time(t)))
        .unwrap_or_else(|| "not used since".into());
    let from =
        s.ip.clone()
            .map(|ip| format!(" · {ip}"))
            .unwrap_or_default();
    view! {
        <li class="session" data-session=s.id.clone() data-current=s.current.to_string()>
            <p class="session-device">
                <strong>{s.device.clone()}</strong>
                {s.current.then(|| view! { " " <span class="badge badge-member">"This device"</span> })}
            </p>
            <p class="event-meta">
                "signed in " {short_time(&s.created_at)} " · " {used} {from}
            </p>
            {(!s.current).then(|| view! {
                <ConfirmButton class="btn btn-link btn-danger-link"
                    question="Sign out this session?".to_string()
                    act=move || { revoke.dispatch(RevokeSession { session_id: id.clone() }); }>
                    "Sign out"
                </ConfirmButton>
            })}
        </li>
    }
}
