//! The account page's two-factor card (set up with a QR code and a confirming code, backup codes
//! shown once, new backup codes, turn off), the step-up dialog a sensitive action opens when the
//! server answers `StepUpRequired`, and the login page's code step.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use proto::api::TwoFactorStatus;

use crate::api::two_factor::{
    ConfirmTwoFactor, DisableTwoFactor, LoginCode, RegenerateBackupCodes, StartTwoFactor, StepUp,
    get_two_factor,
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

/// For an action that may answer `StepUpRequired`: a signal that opens a [`StepUpDialog`] when
/// it does, and the dialog's `done`, which dispatches the refused input again.
pub fn step_up_retry<S>(action: ServerAction<S>) -> (RwSignal<bool>, Callback<()>)
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    let asking = RwSignal::new(false);
    let last = StoredValue::new(None::<S>);
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last.set_value(Some(input));
        }
    });
    Effect::new(move |_| {
        let refused = action
            .value()
            .with(|v| matches!(v, Some(Err(AppError::StepUpRequired))));
        if refused {
            asking.set(true);
        }
    });
    let retry = Callback::new(move |_| {
        if let Some(input) = last.get_value() {
            action.dispatch(input);
        }
    });
    (asking, retry)
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
    let renew = ServerAction::<RegenerateBackupCodes>::new();
    let status = Resource::new(
        move || {
            (
                confirm.version().get(),
                disable.version().get(),
                renew.version().get(),
            )
        },
        |_| get_two_factor(),
    );
    let setup = value_of(start.value());
    let backup = value_of(confirm.value());
    let confirm_error = error_of(confirm.value());
    let start_error = error_of(start.value());
    let turn_off = move || {
        disable.dispatch(DisableTwoFactor {});
    };
    let (asking, turn_off_again) = step_up_retry(disable);
    let disable_error = Signal::derive(move || match disable.value().get() {
        Some(Err(AppError::StepUpRequired)) | None | Some(Ok(())) => None,
        Some(Err(e)) => Some(e),
    });
    let renew_now = move || {
        renew.dispatch(RegenerateBackupCodes {});
    };
    let (asking_renew, renew_again) = step_up_retry(renew);
    let renewed = value_of(renew.value());
    let renew_error = Signal::derive(move || match renew.value().get() {
        Some(Err(AppError::StepUpRequired)) | None | Some(Ok(_)) => None,
        Some(Err(e)) => Some(e),
    });
    let on_status = move |s: TwoFactorStatus| {
        if s.enabled {
            view! {
                <p class="section-text" id="two-factor-on">
                    "Two-factor sign-in is on. " {s.backup_codes_left} " backup codes left."
                </p>
                <FormError error=disable_error />
                <FormError error=renew_error />
                <div class="form-actions">
                    <button type="button" class="btn btn-secondary" id="backup-codes-renew"
                        on:click=move |_| renew_now()>"New backup codes"</button>
                    <button type="button" class="btn btn-danger" id="two-factor-off"
                        on:click=move |_| turn_off()>"Turn off two-factor"</button>
                </div>
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
            {move || backup.get().map(|b| view! {
                <ShownCodes id="backup-codes" label="Backup codes" codes=b.backup_codes
                    note="Two-factor sign-in is on. Keep these backup codes somewhere safe: each works once, and they are not shown again." />
            })}
            {move || renewed.get().map(|b| view! {
                <ShownCodes id="new-backup-codes" label="New backup codes" codes=b.backup_codes
                    note="New backup codes: the old ones no longer work. Keep these somewhere safe; they are not shown again." />
            })}
            <StepUpDialog open=asking done=turn_off_again />
            <StepUpDialog open=asking_renew done=renew_again />
        </section>
    }
}

/// Backup codes shown this once, under `note`.
#[component]
fn ShownCodes(
    id: &'static str,
    label: &'static str,
    note: &'static str,
    codes: Vec<String>,
) -> impl IntoView {
    view! {
        <div class="form-success" role="status">{note}</div>
        <ShownOnce id label value=codes.join(" ") />
    }
}
