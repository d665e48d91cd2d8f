//! `/invite/{token}`: what an invitation link opens. It says which cluster, role and address it
//! is for; someone signed in as that address joins with one click, anyone else signs up with it
//! (even when open sign-up is off) and lands in the cluster.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::team::{JoinByInvite, SignupByInvite, get_invite};
use crate::components::forms::{Field, FormError, SubmitButton, error_of};
use crate::components::loaded::Loaded;
use crate::pages::auth::AuthFrame;

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let invite = Resource::new_blocking(token, get_invite);
    view! {
        <Title text="Invitation" />
        <AuthFrame>
            <Loaded resource=invite let:loaded>
                {
                    let (info, me) = loaded;
                    let by = info.invited_by.clone().map(|n| format!("{n} invited you")).unwrap_or_else(|| "You are invited".into());
                    view! {
                        <h1 id="invite-title">{format!("Join {}", info.cluster_name)}</h1>
                        <p class="section-text">{format!("{by} as {} ({}).", info.role.label(), info.email)}</p>
                        {match me {
                            Some(email) if email == info.email => view! { <JoinForm token=token() /> }.into_any(),
                            Some(email) => view! {
                                <p class="form-error" role="alert">
                                    {format!("You are signed in as {email}; this invitation is for {}. Sign out, then open the link again.", info.email)}
                                </p>
                            }.into_any(),
                            None => view! { <SignupForm token=token() email=info.email.clone() /> }.into_any(),
                        }}
                    }
                }
            </Loaded>
        </AuthFrame>
    }
}

#[component]
fn JoinForm(token: String) -> impl IntoView {
    let join = ServerAction::<JoinByInvite>::new();
    let error = error_of(join.value());
    view! {
        <ActionForm action=join attr:class="form" attr:id="join-form">
            <input type="hidden" name="token" value=token />
            <FormError error />
            <SubmitButton label="Join the cluster" busy_label="Joining…" pending=join.pending().into() />
        </ActionForm>
    }
}

#[component]
fn SignupForm(token: String, email: String) -> impl IntoView {
    let signup = ServerAction::<SignupByInvite>::new();
    let error = error_of(signup.value());
    view! {
        <ActionForm action=signup attr:class="form" attr:id="invite-signup-form">
            <input type="hidden" name="token" value=token />
            <div class="field">
                <label for="invite-signup-email">"Email"</label>
                <input id="invite-signup-email" type="email" name="email" value=email readonly />
            </div>
            <Field id="invite-signup-name" label="Your name" name="name" error required=true
                autocomplete="name" />
            <Field id="invite-signup-password" label="Password" name="password" error
                kind="password" required=true minlength=10 autocomplete="new-password" />
            <FormError error />
            <SubmitButton label="Create account and join" busy_label="Joining…" pending=signup.pending().into() />
        </ActionForm>
    }
}
