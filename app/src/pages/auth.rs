//! `/signup` and `/login`. Both work as plain HTML forms before the WASM arrives; once hydrated,
//! they validate as you type and show server errors next to the input they concern.

use leptos::prelude::*;
use leptos_meta::Title;
use proto::rules;

use crate::api::{Login, Signup, get_signup_state};
use crate::components::forms::{Field, FormError, SubmitButton, error_of};
use crate::components::icons::Logo;
use crate::components::two_factor::LoginCodeStep;

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
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
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
                <Field id="signup-name" label="Name" name="name" error required=true
                    autocomplete="name" maxlength=rules::NAME_MAX />
                <Field id="signup-email" label="Email" name="email" error kind="email" required=true
                    autocomplete="email" bind=email />
                <Field id="signup-password" label="Password" name="password" error kind="password"
                    required=true autocomplete="new-password" minlength=rules::PASSWORD_MIN
                    bind=password hint="password-hint">
                    <p id="password-hint" class=move || hint().0 aria-live="polite">
                        {move || hint().1}
                    </p>
                </Field>
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
    // Two-factor on: the password was right, the code step takes over.
    let challenge = Signal::derive(move || match action.value().get() {
        Some(Ok(Some(c))) => Some(c),
        _ => None,
    });
    view! {
        <Title text="Log in" />
        <AuthFrame>
            <h1>"Welcome back"</h1>
            <p class="lead">"Log in to deploy and manage your services."</p>
            {move || challenge.get().map(|c| view! { <LoginCodeStep challenge=c /> })}
            <ActionForm action=action attr:class="form" attr:hidden=move || challenge.get().is_some()>
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
