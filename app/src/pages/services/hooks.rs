//! A service's Deploy hooks card (Admins and Owners): whether pushes deploy it, from which
//! branch, the last delivery; enable or rotate (the secret and GitHub's settings are shown this
//! once), and switch off.

use leptos::prelude::*;
use proto::api::{CreatedWebhook, WebhookInfo};

use crate::api::hooks::{DisableWebhook, EnableWebhook, get_webhook};
use crate::components::forms::{
    Field, FormError, ShownOnce, SubmitButton, error_of, refetched, value_of,
};
use crate::components::loaded::Loaded;

/// Created at the service page's top level, not inside a Suspense body (see `show`).
#[component]
pub fn HooksPanel(service_id: String) -> impl IntoView {
    let enable = ServerAction::<EnableWebhook>::new();
    let disable = ServerAction::<DisableWebhook>::new();
    let id = StoredValue::new(service_id);
    let info = refetched(
        Signal::stored(id.get_value()),
        [enable.version(), disable.version()],
        get_webhook,
    );
    let disable_error = error_of(disable.value());
    let made = value_of(enable.value());
    view! {
        <section class="settings-section hooks-section" aria-labelledby="hooks-title">
            <h2 id="hooks-title">"Deploy hooks"</h2>
            <p class="section-text">
                "Deploy on every push: add a webhook in GitHub or GitLab, or call the generic URL "
                "from CI with Authorization: Bearer and the secret."
            </p>
            <Loaded resource=info keep=true inline=true let:w>
                <HookCard w enable disable service_id=id.get_value() />
            </Loaded>
            <FormError error=disable_error />
            {move || made.get().map(|c| view! { <NewSecret c /> })}
        </section>
    }
}

#[component]
fn HookCard(
    w: WebhookInfo,
    enable: ServerAction<EnableWebhook>,
    disable: ServerAction<DisableWebhook>,
    service_id: String,
) -> impl IntoView {
    let error = error_of(enable.value());
    let status = if w.enabled {
        let branch = w
            .deploys_branch
            .clone()
            .map(|b| format!("Pushes to {b} deploy this service."))
            .unwrap_or_else(|| "Every push redeploys this service.".into());
        let last = w
            .last_delivery
            .clone()
            .map(|d| {
                let at = d.at.get(..16).unwrap_or(&d.at).replace('T', " ");
                format!(
                    " Last delivery: {} from {} at {at} UTC.",
                    d.outcome, d.provider
                )
            })
            .unwrap_or_else(|| " No delivery yet.".into());
        format!("On. {branch}{last}")
    } else {
        "Off.".to_string()
    };
    let off = service_id.clone();
    view! {
        <p id="hooks-status" data-enabled=w.enabled.to_string()>{status}</p>
        {w.enabled.then(|| view! {
            <p class="muted">"Payload URL (GitHub): " <code id="hooks-github-url">{w.urls.github.clone()}</code></p>
        })}
        <ActionForm action=enable attr:class="form hooks-form" attr:id="hooks-form">
            <input type="hidden" name="service_id" value=service_id />
            <Field id="hooks-branch" label="Branch (empty: the service's branch)" name="branch" error
                class="mono" autocomplete="off" value=w.branch.clone().unwrap_or_default() />
            <FormError error />
            <SubmitButton
                label=if w.enabled { "Rotate secret" } else { "Enable deploy hook" }
                busy_label="Saving…" pending=enable.pending().into() class="btn btn-primary" />
        </ActionForm>
        {w.enabled.then(|| view! {
            <button type="button" class="btn btn-link btn-danger-link" id="hooks-disable"
                on:click=move |_| {
                    let question = "Switch the deploy hook off? Pushes stop deploying at once.";
                    if window().confirm_with_message(question).unwrap_or(false) {
                        enable.value().set(None);
                        disable.dispatch(DisableWebhook { service_id: off.clone() });
                    }
                }>
                "Disable"
            </button>
        })}
    }
}

/// The secret and where to paste it, this once.
#[component]
fn NewSecret(c: CreatedWebhook) -> impl IntoView {
    view! {
        <div class="hooks-created" id="hooks-created">
            <ShownOnce id="hooks-secret" label="Secret (shown once: copy it now)" value=c.secret />
            <ShownOnce id="hooks-url" label="Payload URL (GitHub)" value=c.urls.github />
            <p class="section-text">
                "In GitHub: Settings → Webhooks → Add webhook, content type application/json, "
                "this secret, just the push event. GitLab: " <code>{c.urls.gitlab}</code>
                " with the secret as Secret token. Any CI: POST " <code>{c.urls.generic}</code> "."
            </p>
        </div>
    }
}
