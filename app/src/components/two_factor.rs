//! The account page's two-factor card (set up with a QR code and a confirming code, backup codes
//! shown once, turn off), the step-up dialog a sensitive action opens when the server answers
//! `StepUpRequired`, and the login page's code step.

use leptos::prelude::*;
use proto::api::TwoFactorStatus;

use crate::api::two_factor::{
    ConfirmTwoFactor, DisableTwoFactor, LoginCode, StartTwoFactor, StepUp, get_two_factor,
};
use crate::components::forms::{Field, FormError, ShownOnce, SubmitButton, error_of, value_of};
use crate::error::AppError;

/// The login page's second step: the challenge the password step answered, and a code.
#[component]
pub fn LoginCodeStep(challenge: String) -> impl IntoView {
    let action = ServerAction::<LoginCode>::new();
    let error = error_of(action.value());
    view! {
        <ActionForm action=action attr:class="form" attr:id="login-code-form">
            <p class="lead">
                "Enter the 6-digit code from your authenticator app, or one of your backup codes."
            </p>
            <FormError error />
            <input type="hidden" name="challenge" value=challenge />
            <Field id="login-code" label="Code" name="code" error required=true
                autocomplete="one-time-code" />
            <SubmitButton label="Verify" busy_label="Checking…" pending=action.pending().into() />
        </ActionForm>
    }
}

/// A dialog asking for a code (or a backup code) when `open`; `done` runs once the session is
/// stepped up, to retry what needed it.
#[component]
pub fn StepUpDialog(open: RwSignal<bool>, done: Callback<()>) -> impl IntoView {
    let action = ServerAction::<StepUp>::new();
    let error = error_of(action.value());
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) && open.get_untracked() {
            open.set(false);
            done.run(());
        }
    });
    move || {
        open.get().then(|| {
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="step-up-title">
                        <h2 id="step-up-title">"Confirm it is you"</h2>
                        <p class="section-text">
                            "This action needs a code from your authenticator app (or a backup code)."
                        </p>
                        <ActionForm action=action attr:class="form" attr:id="step-up-form">
                            <FormError error />
                            <Field id="step-up-code" label="Code" name="code" error required=true
                                autocomplete="one-time-code" />
                            <div class="form-actions">
                                <SubmitButton label="Confirm" busy_label="Checking…"
                                    pending=action.pending().into() class="btn btn-primary" />
                                <button type="button" class="btn btn-secondary"
                                    on:click=move |_| open.set(false)>"Cancel"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}

/// The two-factor card of the account page.
#[component]
pub fn TwoFactorSection() -> impl IntoView {
    let start = ServerAction::<StartTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let status = Resource::new(
        move || (confirm.version().get(), disable.version().get()),
        |_| get_two_factor(),
    );
    let setup = value_of(start.value());
    let backup = value_of(confirm.value());
    let confirm_error = error_of(confirm.value());
    let start_error = error_of(start.value());
    let asking = RwSignal::new(false);
    let turn_off = move || {
        disable.dispatch(DisableTwoFactor {});
    };
    Effect::new(move |_| {
        if matches!(disable.value().get(), Some(Err(AppError::StepUpRequired))) {
            asking.set(true);
        }
    });
    let disable_error = Signal::derive(move || match disable.value().get() {
        Some(Err(AppError::StepUpRequired)) | None | Some(Ok(())) => None,
        Some(Err(e)) => Some(e),
    });
    let on_status = move |s: TwoFactorStatus| {
        if s.enabled {
            view! {
                <p class="section-text" id="two-factor-on">
                    "Two-factor sign-in is on. " {s.backup_codes_left} " backup codes left."
                </p>
                <FormError error=disable_error />
                <button type="button" class="btn btn-danger" id="two-factor-off"
                    on:click=move |_| turn_off()>"Turn off two-factor"</button>
            }
            .into_any()
        } else {
            view! {
                <p class="section-text">
                    "Ask for a code from an authenticator app after your password."
                </p>
                <FormError error=start_error />
                <button type="button" class="btn btn-secondary" id="two-factor-start"
                    on:click=move |_| { start.dispatch(StartTwoFactor {}); }>
                    "Set up two-factor"
                </button>
            }
            .into_any()
        }
    };
    view! {
        <section class="settings-section" aria-labelledby="two-factor-title">
            <h2 id="two-factor-title">"Two-factor sign-in"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => on_status(s).into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {move || {
                let done = backup.get().is_some();
                setup.get().filter(|_| !done).map(|s| {
                    view! {
                        <div class="two-factor-setup">
                            <p class="section-text">
                                "Scan this code with your authenticator app, or type the secret into it."
                            </p>
                            <div class="qr" inner_html=s.qr_svg></div>
                            <p>"Secret: " <code id="totp-secret" class="mono">{s.secret}</code></p>
                            <ActionForm action=confirm attr:class="form" attr:id="two-factor-confirm">
                                <FormError error=confirm_error />
                                <Field id="two-factor-code" label="Code from the app" name="code"
                                    error=confirm_error required=true autocomplete="one-time-code" />
                                <SubmitButton label="Turn on" busy_label="Checking…"
                                    pending=confirm.pending().into() class="btn btn-primary" />
                            </ActionForm>
                        </div>
                    }
                })
            }}
            {move || {
                backup.get().map(|b| {
                    view! {
                        <div class="form-success" role="status">
                            "Two-factor sign-in is on. Keep these backup codes somewhere safe: each works once, and they are not shown again."
                        </div>
                        <ShownOnce id="backup-codes" label="Backup codes" value=b.backup_codes.join(" ") />
                    }
                })
            }}
            <StepUpDialog open=asking done=Callback::new(move |_| turn_off()) />
        </section>
    }
}
