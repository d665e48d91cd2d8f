//! The audit-event list: who did what, when, from where, in plain words.

use leptos::prelude::*;
use proto::api::Event;

/// "2026-11-27T01:23:45.123Z" -> "2026-11-27 01:23 UTC": the same text on server and client.
pub fn short_time(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => rfc3339.to_string(),
    }
}

fn describe(e: &Event) -> String {
    let detail = |k: &str| {
        serde_json::from_str::<serde_json::Value>(&e.details)
            .ok()
            .and_then(|v| v.get(k).and_then(|x| x.as_str().map(str::to_owned)))
            .unwrap_or_default()
    };
    match e.action.as_str() {
        "cluster.create" => format!("created the cluster \u{201c}{}\u{201d}", detail("name")),
        "cluster.rename" => {
            format!(
                "renamed the cluster from \u{201c}{}\u{201d} to \u{201c}{}\u{201d}",
                detail("from"),
                detail("to")
            )
        }
        "user.signup" => "created an account".into(),
        "user.login" => "signed in".into(),
        "user.logout" => "signed out".into(),
        "user.password_change" => "changed their password".into(),
        "user.login_failed" => format!("failed to sign in as {}", detail("email")),
        "env.set" => format!("set the variable {}", detail("key")),
        "env.unset" => format!("removed the variable {}", detail("key")),
        "env.import" => "imported variables from a .env file".into(),
        "member.invite" => format!("invited {} as {}", detail("email"), detail("role")),
        "member.join" => format!("joined as {}", detail("role")),
        "member.role" => format!("changed a role from {} to {}", detail("from"), detail("to")),
        "member.remove" => "removed a member".into(),
        "member.leave" => "left the cluster".into(),
        "member.invite_revoke" => "revoked an invitation".into(),
        "token.create" => format!("created the API token \u{201c}{}\u{201d}", detail("name")),
        "token.revoke" => format!("revoked the API token \u{201c}{}\u{201d}", detail("name")),
        "service.crashed" => format!("saw {} crash: {}", detail("service"), detail("reason")),
        "service.unhealthy" => format!(
            "marked {} unhealthy: {}",
            detail("service"),
            detail("reason")
        ),
        "service.recovered" => format!("saw {} recover", detail("service")),
        other => other.to_string(),
    }
}

#[component]
pub fn EventList(events: Vec<Event>) -> impl IntoView {
    view! {
        <ul class="event-list">
            {events
                .into_iter()
                .map(|e| {
                    let who = match (&e.actor_name, &e.actor_token) {
                        (Some(n), Some(t)) => format!("{n} (token {t})"),
                        (Some(n), None) => n.clone(),
                        (None, _) if e.actor_id.is_none() => "dployr".into(),
                        _ => "Someone".into(),
                    };
                    let what = describe(&e);
                    let when = short_time(&e.created_at);
                    let from = e.ip.clone().map(|ip| format!(" · {ip}")).unwrap_or_default();
                    view! {
                        <li class="event" data-action=e.action.clone()>
                            <p class="event-text">
                                <strong>{who}</strong>
                                " "
                                {what}
                            </p>
                            <p class="event-meta">
                                <time datetime=e.created_at.clone()>{when}</time>
                                {from}
                            </p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_time_is_minute_precision_utc() {
        assert_eq!(
            super::short_time("2026-11-27T01:23:45.123Z"),
            "2026-11-27 01:23 UTC"
        );
        assert_eq!(super::short_time("bad"), "bad");
    }
}
