//! Form helpers: every form shows progress while it is in flight, a banner for errors that are
//! not about one input, and the message for an input right under it (linked by `aria-describedby`).

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

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

/// The latest result of an action, as a signal of its value (if it succeeded).
pub fn value_of<T, S>(value: S) -> Signal<Option<T>>
where
    T: Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::ok))
}

/// `fetch(key)`, fetched again when the key changes and after each run of the actions whose
/// `versions` these are: a list under the forms that change it.
pub fn refetched<K, T, Fut, const N: usize>(
    key: Signal<K>,
    versions: [RwSignal<usize>; N],
    fetch: impl Fn(K) -> Fut + Send + Sync + 'static,
) -> Resource<T>
where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new(
        move || (key.get(), versions.map(|v| v.get())),
        move |(key, _)| fetch(key),
    )
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
pub fn FieldError(#[prop(into)] id: String, message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! {
                <p class="field-error" id=id.clone() role="alert">
                    {m}
                </p>
            }
        })
    }
}

/// One labelled input of a server action's form: its message under it when the latest error is
/// about it (`error`'s field is the input's `name`), flagged with `aria-invalid` and linked by
/// `aria-describedby` (after `hint`, the id of a line `children` put between input and message).
/// `bind` keeps the input and a signal the same both ways.
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    error: Signal<Option<AppError>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] class: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] disabled: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] minlength: Option<usize>,
    #[prop(optional)] maxlength: Option<usize>,
    #[prop(optional)] min: Option<&'static str>,
    #[prop(optional)] max: Option<&'static str>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] bind: Option<RwSignal<String>>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let message = field_error(error, name);
    let error_id = format!("{id}-error");
    let described_by = match hint {
        Some(hint) => format!("{hint} {error_id}"),
        None => error_id.clone(),
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type=kind
                name=name
                class=class
                required=required
                disabled=disabled
                autocomplete=autocomplete
                placeholder=placeholder
                minlength=minlength
                maxlength=maxlength
                min=min
                max=max
                value=value
                prop:value=move || bind.map(|b| b.get())
                on:input=move |ev| {
                    if let Some(b) = bind {
                        b.set(event_target_value(&ev));
                    }
                }
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described_by
            />
            {children.map(|c| c())}
            <FieldError id=error_id message />
        </div>
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

/// A button that runs `act` once the person has said yes to `question` (the browser's dialog).
#[component]
pub fn ConfirmButton<F>(
    class: &'static str,
    question: String,
    act: F,
    children: Children,
) -> impl IntoView
where
    F: Fn() + Send + Sync + 'static,
{
    view! {
        <button type="button" class=class
            on:click=move |_| {
                if window().confirm_with_message(&question).unwrap_or(false) {
                    act();
                }
            }>
            {children()}
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
