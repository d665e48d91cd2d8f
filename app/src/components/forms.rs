//! Form helpers: every form shows progress while it is in flight, a banner for errors that are
//! not about one input, and the message for an input right under it (linked by `aria-describedby`).

use leptos::prelude::*;

use crate::error::AppError;

/// The latest result of an action, as a signal of its error (if it failed).
pub fn error_of<T, S>(value: S) -> Signal<Option<AppError>>
where
    T: 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || match value.get() {
        Some(Err(e)) => Some(e),
        _ => None,
    })
}

/// The message for one field, if the latest error is about it.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
}

/// A banner for errors that no single input explains.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| !matches!(e, AppError::Invalid { .. }))
            .map(|e| {
                view! {
                    <div class="form-error" role="alert">
                        {e.to_string()}
                    </div>
                }
            })
    }
}

/// Text under an input: the error when there is one.
#[component]
pub fn FieldError(id: &'static str, message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! {
                <p class="field-error" id=id role="alert">
                    {m}
                </p>
            }
        })
    }
}

#[component]
pub fn SubmitButton(
    label: &'static str,
    busy_label: &'static str,
    pending: Signal<bool>,
    #[prop(default = "btn btn-primary btn-block")] class: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class=class disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            {move || {
                if pending.get() {
                    view! {
                        <span class="spinner" aria-hidden="true"></span>
                        {busy_label}
                    }
                        .into_any()
                } else {
                    label.into_any()
                }
            }}
        </button>
    }
}

/// A value shown this once (an invitation link, a new API token): read-only, with Copy.
#[component]
pub fn ShownOnce(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    let copy = value.clone();
    view! {
        <div class="invite-link" role="status">
            <label for=id>{label}</label>
            <div class="copy-row">
                <input id=id class="mono" readonly value=value />
                <button type="button" class="btn btn-secondary"
                    on:click=move |_| { let _ = window().navigator().clipboard().write_text(&copy); }>
                    "Copy"
                </button>
            </div>
        </div>
    }
}
