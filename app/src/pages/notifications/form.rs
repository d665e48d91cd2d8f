//! The new-channel form: a name, where to send (a URL, or email addresses), the alerts it
//! subscribes to (ticked boxes, sent as one comma-separated field) and the disk and memory
//! thresholds. A webhook's signing secret is shown once under the form.

use leptos::prelude::*;
use proto::api::AlertKind;

use super::ALERTS;
use crate::api::notifications::CreateChannel;
use crate::components::forms::{
    Field, FieldError, FormError, ShownOnce, SubmitButton, error_of, field_error, value_of,
};

/// Ticked when the form opens: what goes wrong, and an instance coming back.
const DEFAULT_ALERTS: [AlertKind; 7] = [
    AlertKind::DeployFailed,
    AlertKind::ServiceUnhealthy,
    AlertKind::ServiceCrashLooping,
    AlertKind::InstanceOffline,
    AlertKind::InstanceOnline,
    AlertKind::CertificateFailing,
    AlertKind::DiskHigh,
];

#[component]
pub fn NewChannel(
    cluster_id: Signal<String>,
    create: ServerAction<CreateChannel>,
) -> impl IntoView {
    let error = error_of(create.value());
    let kind_err = field_error(error, "kind");
    let events_err = field_error(error, "events");
    let made = value_of(create.value());
    let kind = RwSignal::new("webhook".to_string());
    let ticked = RwSignal::new(DEFAULT_ALERTS.to_vec());
    let events = move || {
        ticked
            .get()
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let boxes = ALERTS
        .iter()
        .map(|&(alert, label)| {
            let id = format!("alert-{}", alert.as_str().replace('.', "-"));
            view! {
                <label class="checkbox">
                    <input type="checkbox" id=id.clone() data-alert=alert.as_str()
                        checked=move || ticked.with(|t| t.contains(&alert))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            ticked.update(|t| {
                                t.retain(|k| *k != alert);
                                if on { t.push(alert); }
                            });
                        } />
                    " " {label}
                </label>
            }
        })
        .collect_view();
    let emails = move || kind.get() == "email";
    view! {
        <section class="settings-section" aria-labelledby="new-channel-title">
            <h2 id="new-channel-title">"New channel"</h2>
            <p class="section-text">
                "A webhook gets a signed JSON POST (X-Dployr-Signature: sha256= HMAC of \"timestamp.body\"); Slack and Discord take their incoming-webhook URL; email goes through Base's SMTP settings."
            </p>
            <ActionForm action=create attr:class="form" attr:id="channel-form">
                <input type="hidden" name="cluster_id" value=move || cluster_id.get() />
                <input type="hidden" name="events" value=events />
                <Field id="channel-name" label="Name" name="name" error required=true placeholder="On-call" />
                <div class="field">
                    <label for="channel-kind">"Send to"</label>
                    <select id="channel-kind" name="kind" aria-describedby="channel-kind-error"
                        on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="webhook" selected=true>"Webhook (signed)"</option>
                        <option value="slack">"Slack"</option>
                        <option value="discord">"Discord"</option>
                        <option value="email">"Email"</option>
                    </select>
                    <FieldError id="channel-kind-error" message=kind_err />
                </div>
                <Show when=move || !emails()>
                    <Field id="channel-url" label="URL" name="url" error kind="url"
                        placeholder="https://hooks.example.com/dployr" />
                </Show>
                <Show when=emails>
                    <Field id="channel-emails" label="Email addresses (comma-separated)" name="emails"
                        error placeholder="ops@example.com" />
                </Show>
                <fieldset class="field alert-kinds" aria-describedby="channel-events-error">
                    <legend>"Alerts"</legend>
                    {boxes}
                    <FieldError id="channel-events-error" message=events_err />
                </fieldset>
                <details class="field">
                    <summary>"Thresholds"</summary>
                    <Field id="channel-disk" label="Disk alert at (% full, default 90)" name="disk_pct"
                        error kind="number" min="1" max="100" />
                    <Field id="channel-memory" label="Memory alert at (% used, default 90)" name="memory_pct"
                        error kind="number" min="1" max="100" />
                    <Field id="channel-minutes" label="… for at least (minutes, default 5)" name="memory_minutes"
                        error kind="number" min="1" max="1440" />
                </details>
                <FormError error />
                <SubmitButton label="Add channel" busy_label="Adding…" pending=create.pending().into()
                    class="btn btn-primary" />
            </ActionForm>
            {move || made.get().and_then(|c| c.signing_secret).map(|value| view! {
                <ShownOnce id="channel-secret" label="The webhook's signing secret (shown once: copy it now)" value />
            })}
        </section>
    }
}
