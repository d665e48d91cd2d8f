//! The audit-event list: who did what, when, from where, in plain words.

use leptos::prelude::*;
use proto::api::{AuditAction, Event};

/// "2026-11-27T01:23:45.123Z" -> "2026-11-27 01:23 UTC": the same text on server and client.
pub fn short_time(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => rfc3339.to_string(),
    }
}

/// The sentence after the actor's name, from the one table of actions in `proto`; an action
/// this dashboard does not know (a newer Base) shows its dotted name.
fn describe(e: &Event) -> String {
    match AuditAction::parse(&e.action) {
        Some(action) => action.describe(&e.details),
        None => e.action.clone(),
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
                    let from = [e.ip.as_deref(), e.details.get("device").and_then(|d| d.as_str())]
                        .into_iter()
                        .flatten()
                        .map(|part| format!(" · {part}"))
                        .collect::<String>();
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
