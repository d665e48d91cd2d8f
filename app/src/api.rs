//! Server functions: the dashboard's RPCs. Each parses, calls one `control` function and maps
//! the error; authorization happens in `control`. They are served under `/rpc/`, so the REST API
//! keeps `/api/v1` to itself. Services and deployments are in [`services`].

use leptos::prelude::*;
use proto::api::{
    ClusterOverview, ClusterSummary, CreateInstanceResponse, Event, Instance, MeResponse,
};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{
    as_actor, base, client_info, fail, maybe_actor, redirect_to_cluster, session_token, set_cookie,
    set_session_cookie,
};

pub mod account;
pub mod domains;
pub mod env;
pub mod hooks;
pub mod metrics;
pub mod notifications;
pub mod oidc;
pub mod services;
pub mod team;
pub mod two_factor;

/// Whether the sign-up form should be offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupState {
    /// No account exists yet: the first person to sign up owns this Base.
    pub first_user: bool,
    pub open: bool,
}

#[server(prefix = "/rpc")]
pub async fn get_signup_state() -> Result<SignupState, AppError> {
    let (first_user, open) = base()?.signup_offer().await.map_err(fail)?;
    Ok(SignupState { first_user, open })
}

/// Where `/` sends a visitor: their first cluster, the sign-up page on a fresh Base, or log-in.
#[server(prefix = "/rpc")]
pub async fn landing_path() -> Result<String, AppError> {
    if let Some(actor) = maybe_actor().await? {
        let clusters = base()?.list_clusters(&actor).await.map_err(fail)?;
        return Ok(match clusters.first() {
            Some(c) => format!("/c/{}", c.id),
            None => "/clusters/new".to_string(),
        });
    }
    Ok(if get_signup_state().await?.first_user {
        "/signup"
    } else {
        "/login"
    }
    .to_string())
}

/// The signed-in user and their clusters, or `None` when signed out.
#[server(prefix = "/rpc")]
pub async fn get_me() -> Result<Option<MeResponse>, AppError> {
    crate::server::me(&base()?, session_token().as_deref(), client_info()).await
}

#[server(prefix = "/rpc")]
pub async fn signup(name: String, email: String, password: String) -> Result<(), AppError> {
    let base = base()?;
    let req = proto::api::SignupRequest {
        email,
        password,
        name,
    };
    let done = base.signup(req, &client_info()).await.map_err(fail)?;
    set_session_cookie(&base, &done.session);
    redirect_to_cluster(&done.cluster.id);
    Ok(())
}

/// Signs in, or, on an account with two-factor on, answers the challenge the code step sends
/// back with the code ([`two_factor::login_code`]).
#[server(prefix = "/rpc")]
pub async fn login(email: String, password: String) -> Result<Option<String>, AppError> {
    let base = base()?;
    let outcome = base
        .login(&email, &password, &client_info())
        .await
        .map_err(fail)?;
    match outcome {
        control::auth::LoginOutcome::SignedIn(done) => {
            set_session_cookie(&base, &done.session);
            leptos_axum::redirect("/");
            Ok(None)
        }
        control::auth::LoginOutcome::NeedsCode(challenge) => Ok(Some(challenge.token)),
    }
}

#[server(prefix = "/rpc")]
pub async fn logout() -> Result<(), AppError> {
    let base = base()?;
    if let Some(actor) = maybe_actor().await? {
        base.logout(&actor).await.map_err(fail)?;
    }
    set_cookie(&control::auth::cookie::clear(
        base.config().secure_cookies(),
    ));
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    as_actor(async |base, actor| {
        base.change_password(actor, &current_password, &new_password)
            .await
    })
    .await
}

#[server(prefix = "/rpc")]
pub async fn create_cluster(name: String) -> Result<ClusterSummary, AppError> {
    as_actor(async |base, actor| base.create_cluster(actor, &name).await)
        .await
        .inspect(|cluster| redirect_to_cluster(&cluster.id))
}

#[server(prefix = "/rpc")]
pub async fn rename_cluster(cluster_id: String, name: String) -> Result<ClusterSummary, AppError> {
    as_actor(async |base, actor| base.rename_cluster(actor, &cluster_id, &name).await).await
}

/// Deletes a cluster (Owner; `confirm` repeats its name). The page then reloads `/`, which
/// picks another cluster or offers to create one.
#[server(prefix = "/rpc")]
pub async fn delete_cluster(cluster_id: String, confirm: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.delete_cluster(actor, &cluster_id, &confirm).await).await
}

#[server(prefix = "/rpc")]
pub async fn get_cluster_overview(cluster_id: String) -> Result<ClusterOverview, AppError> {
    as_actor(async |base, actor| base.cluster_overview(actor, &cluster_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn account_events() -> Result<Vec<Event>, AppError> {
    as_actor(async |base, actor| base.account_events(actor, 50).await).await
}

#[server(prefix = "/rpc")]
pub async fn list_instances(cluster_id: String) -> Result<Vec<Instance>, AppError> {
    as_actor(async |base, actor| base.list_instances(actor, &cluster_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn create_instance(
    cluster_id: String,
    name: String,
) -> Result<CreateInstanceResponse, AppError> {
    let made =
        as_actor(async |base, actor| base.create_instance(actor, &cluster_id, &name).await).await?;
    Ok(CreateInstanceResponse {
        instance: made.instance,
        join_token: made.join_token,
        install_command: made.install_command,
    })
}

/// Switches consoles on or off on an instance (Admin+).
#[server(prefix = "/rpc")]
pub async fn set_instance_console(instance_id: String, enabled: bool) -> Result<(), AppError> {
    let req = proto::api::UpdateInstanceRequest {
        console_enabled: Some(enabled),
    };
    as_actor(async |base, actor| base.update_instance(actor, &instance_id, req).await)
        .await
        .map(|_| ())
}

#[server(prefix = "/rpc")]
pub async fn delete_instance(instance_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.delete_instance(actor, &instance_id).await).await
}
