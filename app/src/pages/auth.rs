//! `/signup` and `/login`. Both work as plain HTML forms before the WASM arrives; once hydrated,
//! they validate as you type and show server errors next to the input they concern.

use leptos::prelude::*;
use leptos_meta::Title;
use proto::rules;

use crate::api::{Login, Signup, get_signup_state};
use crate::components::forms::{FieldError, FormError, SubmitButton, error_of, field_error};
use crate::components::icons::Logo;

#[component]
pub(crate) fn AuthFrame(children: Children) -> impl IntoView {
    view! {
        <main class="auth-page">
            <a class="auth-brand" href="/">
                <Logo />
                <span>"dployr"</span>
            </a>
            <div class="auth-card">{children()}</div>
        </main>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<Signup>::new();
    let error = error_of(action.value());
    let state = Resource::new_blocking(|| (), |_| get_signup_state());
    let (email, set_email) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let hint = move || {
        let p = password.get();
        if p.is_empty() {
            (
                "field-hint",
                format!(
                    "At least {} characters. A passphrase works well.",
                    rules::PASSWORD_MIN
                ),
            )
        } else {
            match rules::password_weakness(&p, &email.get()) {
                Some(why) => ("field-hint bad", format!("Too weak: {why}.")),
                None => ("field-hint ok", "Strong enough.".to_string()),
            }
        }
    };
    let name_err = field_error(error, "name");
    let email_err = field_error(error, "email");
    let password_err = field_error(error, "password");

    view! {
        <Title text="Create your account" />
        <AuthFrame>
            <h1>"Create your account"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(s) if s.first_user => {
                            view! {
                                <p class="lead">
                                    "You are the first person here: you will own this dployr server."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(s) if !s.open => {
                            view! {
                                <div class="form-error" role="alert">
                                    "Sign-up is closed on this server. Ask an admin of your team for an invitation."
                                </div>
                            }
                                .into_any()
                        }
                        _ => view! { <p class="lead">"Deploy to your own servers in minutes."</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=action attr:class="form" attr:novalidate="">
                <FormError error />
                <div class="field">
                    <label for="signup-name">"Name"</label>
                    <input
                        id="signup-name"
                        type="text"
                        name="name"
                        autocomplete="name"
                        required
                        maxlength=rules::NAME_MAX
                        aria-invalid=move || name_err.get().is_some().then_some("true")
                        aria-describedby="signup-name-error"
                    />
                    <FieldError id="signup-name-error" message=name_err />
                </div>
                <div class="field">
                    <label for="signup-email">"Email"</label>
                    <input
                        id="signup-email"
                        type="email"
                        name="email"
                        autocomplete="email"
                        required
                        on:input=move |ev| set_email.set(event_target_value(&ev))
                        aria-invalid=move || email_err.get().is_some().then_some("true")
                        aria-describedby="signup-email-error"
                    />
                    <FieldError id="signup-email-error" message=email_err />
                </div>
                <div class="field">
                    <label for="signup-password">"Password"</label>
                    <input
                        id="signup-password"
                        type="password"
                        name="password"
                        autocomplete="new-password"
                        required
                        minlength=rules::PASSWORD_MIN
                        on:input=move |ev| set_password.set(event_target_value(&ev))
                        aria-invalid=move || password_err.get().is_some().then_some("true")
                        aria-describedby="password-hint signup-password-error"
                    />
                    <p id="password-hint" class=move || hint().0 aria-live="polite">
                        {move || hint().1}
                    </p>
                    <FieldError id="signup-password-error" message=password_err />
                </div>
                <SubmitButton label="Create account" busy_label="Creating account…" pending=action.pending().into() />
            </ActionForm>
            <p class="auth-alt">"Already have an account? " <a href="/login">"Log in"</a></p>
        </AuthFrame>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let error = error_of(action.value());
    let state = Resource::new_blocking(|| (), |_| get_signup_state());
    view! {
        <Title text="Log in" />
        <AuthFrame>
            <h1>"Welcome back"</h1>
            <p class="lead">"Log in to deploy and manage your services."</p>
            <ActionForm action=action attr:class="form">
                <FormError error />
                <div class="field">
                    <label for="login-email">"Email"</label>
                    <input id="login-email" type="email" name="email" autocomplete="username" required />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input
                        id="login-password"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                </div>
                <SubmitButton label="Log in" busy_label="Logging in…" pending=action.pending().into() />
            </ActionForm>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    state.await.ok().filter(|s| s.open).map(|_| {
                        view! {
                            <p class="auth-alt">"New here? " <a href="/signup">"Create an account"</a></p>
                        }
                    })
                })}
            </Suspense>
        </AuthFrame>
    }
}
