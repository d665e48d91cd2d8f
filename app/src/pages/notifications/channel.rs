//! One channel as a card: its kind, destination and alerts, how its newest delivery went, the
//! Test button with the attempt it made, and on request its deliveries with every attempt
//! (time, HTTP status or error), so a person can see why a receiver did not hear.

use leptos::prelude::*;
use proto::api::{Channel, ChannelKind, Delivery, DeliveryAttempt};

use super::alert_label;
use crate::api::notifications::{DeleteChannel, TestChannel, channel_deliveries};
use crate::components::events::short_time;
use crate::components::forms::{ConfirmButton, FormError, error_of, value_of};
use crate::components::loaded::Loaded;

/// Where `ch` sends, as far as it may be shown (Slack's and Discord's URLs are secrets).
fn destination(ch: &Channel) -> String {
    match ch.kind {
        ChannelKind::Email => ch.emails.join(", "),
        ChannelKind::Webhook => ch.url.clone().unwrap_or_default(),
        ChannelKind::Slack => "Slack incoming webhook (URL hidden)".into(),
        ChannelKind::Discord => "Discord webhook (URL hidden)".into(),
    }
}

/// An attempt in a few words: "200", "HTTP 500", or the error.
fn attempt_text(a: &DeliveryAttempt) -> String {
    match (a.ok, a.http_status, &a.error) {
        (true, Some(code), _) => format!("delivered ({code})"),
        (true, None, _) => "delivered".into(),
        (false, _, Some(e)) => e.clone(),
        (false, Some(code), None) => format!("HTTP {code}"),
        (false, None, None) => "failed".into(),
    }
}

fn state_class(state: &str) -> &'static str {
    match state {
        "delivered" => "status state-good",
        "failed" => "status state-bad",
        _ => "status state-busy",
    }
}

#[component]
pub fn ChannelCard(
    ch: Channel,
    cluster_id: Signal<String>,
    delete: ServerAction<DeleteChannel>,
    manages: Signal<bool>,
) -> impl IntoView {
    let test = ServerAction::<TestChannel>::new();
    let tested = value_of(test.value());
    let test_error = error_of(test.value());
    let open = RwSignal::new(false);
    let alerts = ch
        .events
        .iter()
        .map(|k| alert_label(*k))
        .collect::<Vec<_>>()
        .join(", ");
    let last = ch.last_delivery.clone().map(|d| {
        let attempt = d.attempts.last().map(attempt_text).unwrap_or_default();
        view! {
            <span class=state_class(&d.state)>{d.state.clone()}</span>
            " " {alert_label(d.alert)} " · " {short_time(&d.created_at)} " · " {attempt}
        }
        .into_any()
    });
    let (id_test, id_delete, id_list) = (ch.id.clone(), ch.id.clone(), ch.id.clone());
    view! {
        <article class="card channel" data-channel=ch.id.clone() data-kind=ch.kind.as_str()>
            <header class="channel-head">
                <h3>{ch.name.clone()}</h3>
                <span class="badge">{ch.kind.as_str()}</span>
            </header>
            <p class="mono channel-dest">{destination(&ch)}</p>
            <p class="muted channel-alerts">{alerts}</p>
            <p class="channel-last" data-last-delivery>
                {last.unwrap_or_else(|| view! { <span class="muted">"Nothing sent yet"</span> }.into_any())}
            </p>
            <div class="row-actions">
                <button type="button" class="btn btn-secondary channel-deliveries-toggle"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Hide deliveries" } else { "Deliveries" }}
                </button>
                <Show when=move || manages.get()>
                    <button type="button" class="btn btn-secondary channel-test"
                        disabled=move || test.pending().get()
                        on:click={
                            let id = id_test.clone();
                            move |_| { test.dispatch(TestChannel { cluster_id: cluster_id.get(), channel_id: id.clone() }); }
                        }>
                        {move || if test.pending().get() { "Sending…" } else { "Send test" }}
                    </button>
                    <ConfirmButton class="btn btn-link btn-danger-link"
                        question="Remove this channel? Its pending notifications are dropped.".to_string()
                        act={
                            let id = id_delete.clone();
                            move || { delete.dispatch(DeleteChannel { cluster_id: cluster_id.get(), channel_id: id.clone() }); }
                        }>
                        "Remove"
                    </ConfirmButton>
                </Show>
            </div>
            {move || tested.get().map(|a| view! {
                <p class="channel-test-result" role="status" data-ok=a.ok.to_string()>
                    "Test: " {attempt_text(&a)}
                </p>
            })}
            <FormError error=test_error />
            <Show when=move || open.get()>
                <Deliveries cluster_id channel_id=id_list.clone() version=test.version() />
            </Show>
        </article>
    }
}

/// The channel's newest deliveries, each with its attempts, oldest attempt first; fetched when
/// opened and again after each test.
#[component]
fn Deliveries(
    cluster_id: Signal<String>,
    channel_id: String,
    version: RwSignal<usize>,
) -> impl IntoView {
    let list = Resource::new(
        move || (cluster_id.get(), channel_id.clone(), version.get()),
        |(cluster, channel, _)| channel_deliveries(cluster, channel),
    );
    view! {
        <Loaded resource=list keep=true inline=true let:deliveries>
            {if deliveries.is_empty() {
                view! { <p class="muted">"No deliveries yet."</p> }.into_any()
            } else {
                let rows = deliveries.into_iter().map(|d| view! { <DeliveryRow d /> }).collect_view();
                view! {
                    <table class="table deliveries">
                        <thead><tr><th>"When"</th><th>"Alert"</th><th>"State"</th><th>"Attempts"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }.into_any()
            }}
        </Loaded>
    }
}

#[component]
fn DeliveryRow(d: Delivery) -> impl IntoView {
    let attempts = d
        .attempts
        .iter()
        .map(|a| view! { <li>{short_time(&a.at)} " · " {attempt_text(a)}</li> })
        .collect_view();
    view! {
        <tr data-delivery=d.id.clone() data-state=d.state.clone()>
            <td class="muted">{short_time(&d.created_at)}</td>
            <td title=d.text.clone()>{alert_label(d.alert)}</td>
            <td><span class=state_class(&d.state)>{d.state.clone()}</span></td>
            <td><ol class="attempts">{attempts}</ol></td>
        </tr>
    }
}
