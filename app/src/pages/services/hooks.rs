//! A service's Deploy hooks card (Admins and Owners): whether pushes deploy it, from which
//! branch, the last delivery; enable or rotate (the secret and GitHub's settings are shown this
//! once), and switch off.

use leptos::prelude::*;
use proto::api::{CreatedWebhook, WebhookInfo};

use crate::api::hooks::{DisableWebhook, EnableWebhook, get_webhook};
use crate::components::forms::{
    FieldError, FormError, ShownOnce, SubmitButton, error_of, field_error,
};

/// Created at the service page's top level, not inside a Suspense body (see `show`).
#[component]
pub fn HooksPanel(service_id: String) -> impl IntoView {
    let enable = ServerAction::<EnableWebhook>::new();
    let disable = ServerAction::<DisableWebhook>::new();
    let id = StoredValue::new(service_id);
    let info = Resource::new(
        move || (enable.version().get(), disable.version().get()),
        move |_| get_webhook(id.get_value()),
    );
    let disable_error = error_of(disable.value());
    let made = move || match enable.value().get() {
        Some(Ok(created)) => Some(created),
        _ => None,
    };
    view! {
        <section class="settings-section hooks-section" aria-labelledby="hooks-title">
            <h2 id="hooks-title">"Deploy hooks"</h2>
            <p class="section-text">
                "Deploy on every push: add a webhook in GitHub or GitLab, or call the generic URL "
                "from CI with Authorization: Bearer and the secret."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(w) => view! { <HookCard w enable disable service_id=id.get_value() /> }.into_any(),
                    }
                })}
            </Transition>
            <FormError error=disable_error />
            {move || made().map(|c| view! { <NewSecret c /> })}
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
    let branch_err = field_error(error, "branch");
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
            <div class="field">
                <label for="hooks-branch">"Branch (empty: the service's branch)"</label>
                <input id="hooks-branch" name="branch" type="text" class="mono" autocomplete="off"
                    value=w.branch.clone().unwrap_or_default()
                    aria-invalid=move || branch_err.get().is_some().then_some("true")
                    aria-describedby="hooks-branch-error" />
                <FieldError id="hooks-branch-error" message=branch_err />
            </div>
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
