//! Revocation that bites (M1). A log follow, a live view or a console outlives the request that
//! opened it, so the check made at the start is not enough: each such relay waits on
//! [`Base::until_revoked`], which re-authorizes the stream whenever something that can take
//! access away happens (logout, password change, token revoked, member removed or demoted,
//! instance settings changed, cluster deleted) and every [`RECHECK_EVERY`] besides, so an
//! expired session or token ends the stream too. The relay closes with the returned reason.

use std::future::Future;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::rbac::{ViewCluster, ViewLogs, authorize};
use crate::store::{sessions, tokens};
use crate::tools::ConsoleScope;
use crate::{Actor, Base, DomainError, clock};

/// How often an open stream re-checks its access without a signal (expiry has none).
pub const RECHECK_EVERY: Duration = Duration::from_secs(3);

const SESSION_ENDED: &str = "the session has ended: sign in again";
const TOKEN_ENDED: &str = "the API token was revoked or has expired";

/// What a long-lived stream does, re-checked while it runs.
#[derive(Debug, Clone)]
pub enum Access {
    /// Following a service's logs.
    Logs(String),
    /// Watching a cluster (the live lists of its services or instances).
    Cluster(String),
    /// Watching one service (its live view).
    Service(String),
    /// A console on a service or an instance (Admin+, the instance's console switched on).
    Console(ConsoleScope),
}

impl Base {
    /// Tells every open stream to re-authorize now: call after committing a change that can
    /// take access away.
    pub(crate) fn access_changed(&self) {
        self.access.changed();
    }

    /// Whether the session or API token behind `actor` is still live (not revoked or expired).
    pub async fn credential_live(&self, actor: &Actor) -> Result<(), DomainError> {
        let pool = self.store.pool();
        let now = clock::now_ms();
        match &actor.token {
            Some(grant) => tokens::by_id(pool, &grant.id)
                .await?
                .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))
                .map(drop)
                .ok_or(DomainError::Unauthorized(TOKEN_ENDED)),
            None => sessions::live_user(pool, &actor.session_hash, now)
                .await?
                .filter(|u| u.id == actor.user.id)
                .map(drop)
                .ok_or(DomainError::Unauthorized(SESSION_ENDED)),
        }
    }

    /// The one re-authorization every relay runs: the credential is live, and the actor's role
    /// in the cluster (capped by its token) still allows `access`.
    pub async fn reauthorize(&self, actor: &Actor, access: &Access) -> Result<(), DomainError> {
        self.credential_live(actor).await?;
        match access {
            Access::Logs(id) => self.service_for::<ViewLogs>(actor, id).await.map(drop),
            Access::Cluster(id) => authorize::<ViewCluster>(&self.store, actor, id)
                .await
                .map(drop),
            Access::Service(id) => self.visible_service(actor, id).await.map(drop),
            Access::Console(scope) => self.console_gate(actor, scope).await.map(drop),
        }
    }

    /// Resolves, with the reason, once `actor` may no longer keep `access`; never while it may.
    /// A failure of the database itself is logged and retried at the next check.
    pub fn until_revoked(
        &self,
        actor: Actor,
        access: Access,
    ) -> impl Future<Output = DomainError> + Send + 'static {
        let base = self.clone();
        let mut signal = self.access.subscribe();
        async move {
            let mut tick = tokio::time::interval(RECHECK_EVERY);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    changed = signal.changed() => if changed.is_err() {
                        // Base is going away: only the timer is left.
                        tick.tick().await;
                    },
                    _ = tick.tick() => {}
                }
                match base.reauthorize(&actor, &access).await {
                    Ok(()) => {}
                    Err(e @ DomainError::Internal(_)) => {
                        tracing::warn!(error = ?e, "re-authorizing an open stream");
                    }
                    Err(e) => {
                        tracing::info!(user.id = %actor.user.id, ?access, reason = %e, "access ended: closing the stream");
                        return e;
                    }
                }
            }
        }
    }
}
