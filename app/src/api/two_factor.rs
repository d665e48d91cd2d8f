//! Server functions of two-factor sign-in: the account page's setup, confirm, turn off and
//! step-up, and the login page's code step. Authorization and rate limits are `control`'s.

use leptos::prelude::*;
use proto::api::{BackupCodes, TwoFactorSetup, TwoFactorStatus};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{as_actor, base, client_info, fail, set_session_cookie};

#[server(prefix = "/rpc")]
pub async fn get_two_factor() -> Result<TwoFactorStatus, AppError> {
    as_actor(async |base, actor| base.two_factor_status(actor).await).await
}

/// A new secret, shown this once (text and QR code).
#[server(prefix = "/rpc")]
pub async fn start_two_factor() -> Result<TwoFactorSetup, AppError> {
    as_actor(async |base, actor| base.start_two_factor(actor).await).await
}

/// Turns two-factor on with a code; the backup codes come back this once.
#[server(prefix = "/rpc")]
pub async fn confirm_two_factor(code: String) -> Result<BackupCodes, AppError> {
    as_actor(async |base, actor| base.confirm_two_factor(actor, &code).await).await
}

#[server(prefix = "/rpc")]
pub async fn disable_two_factor() -> Result<(), AppError> {
    as_actor(async |base, actor| base.disable_two_factor(actor).await).await
}

/// Enters a code so sensitive actions are allowed for 5 minutes.
#[server(prefix = "/rpc")]
pub async fn step_up(code: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.step_up(actor, &code).await).await
}

/// The login page's second step: the challenge [`super::login`] answered and a code.
#[server(prefix = "/rpc")]
pub async fn login_code(challenge: String, code: String) -> Result<(), AppError> {
    let base = base()?;
    let done = base
        .login_with_code(&challenge, &code, &client_info())
        .await
        .map_err(fail)?;
    set_session_cookie(&base, &done.session);
    leptos_axum::redirect("/");
    Ok(())
}

/// Ten new backup codes replacing the old ones, shown this once (needs a step-up).
#[server(prefix = "/rpc")]
pub async fn regenerate_backup_codes() -> Result<BackupCodes, AppError> {
    as_actor(async |base, actor| base.regenerate_backup_codes(actor).await).await
}

/// Whether the cluster requires two-factor sign-in of its members.
#[server(prefix = "/rpc")]
pub async fn get_cluster_two_factor(cluster_id: String) -> Result<bool, AppError> {
    as_actor(async |base, actor| base.cluster_requires_two_factor(actor, &cluster_id).await).await
}

/// An Owner requires (or stops requiring) two-factor sign-in of the cluster's members.
#[server(prefix = "/rpc")]
pub async fn set_cluster_two_factor(cluster_id: String, required: bool) -> Result<(), AppError> {
    as_actor(async |base, actor| {
        base.set_cluster_two_factor(actor, &cluster_id, required)
            .await
    })
    .await
}
