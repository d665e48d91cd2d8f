//! Sign-ins in the clusters' events logs. Each sign-in, and each failed attempt on a known
//! account, is written once for the account (the person's own security log, no cluster) and
//! once in every cluster the person belongs to at that moment, with the address and the device
//! it came from. An attempt on an email with no account has no cluster to go to and is written
//! for the account-less log only.
//!
//! Why a row per cluster at sign-in rather than the cluster's events query reading its members'
//! account events: membership changes. The log must say what the cluster's people did while
//! they were its people. Reading members' account events at query time would show a newcomer's
//! sign-ins from before they joined (none of the cluster's business, and news to its admins
//! about the person's other work), and would make a former member's sign-ins vanish from the
//! record once they leave, though they happened while that person held access. Rows written at
//! the time keep the log append-only and true to its day, go with the cluster when it is
//! deleted (ON DELETE CASCADE), and need no join on every page of events. The cost is a few
//! rows per sign-in, bounded by the person's clusters and, for failures, the login limiter.

use proto::api::AuditAction;
use serde_json::json;

use super::user_agent;
use crate::events::{NewEvent, record};
use crate::store::{Store, Tx, memberships};
use crate::{ClientInfo, DomainError};

/// Records a successful sign-in of `user_id` in `tx`: for the account and in each cluster;
/// `two_factor` names the second factor used (`totp` or `backup`), if any.
pub(crate) async fn signed_in(
    tx: &mut Tx<'_>,
    user_id: &str,
    client: &ClientInfo,
    two_factor: Option<&str>,
) -> Result<(), DomainError> {
    let mut details = json!({ "device": user_agent::summarize(client.user_agent.as_deref()) });
    if let Some(used) = two_factor {
        details["two_factor"] = json!(used);
    }
    let event = NewEvent::account(user_id, client, AuditAction::UserLogin, details);
    in_every_cluster(tx, user_id, event).await
}

/// Records a failed sign-in as `email` (never the password tried): against the account and in
/// each of its clusters when `account` is the id of a known one, else in no cluster.
/// `second_factor`: the password was right and the code was not.
pub(crate) async fn failed(
    store: &Store,
    account: Option<&str>,
    email: &str,
    client: &ClientInfo,
    second_factor: bool,
) -> Result<(), DomainError> {
    let event = NewEvent {
        cluster_id: None,
        actor_user_id: None,
        actor_token_id: None,
        client,
        action: AuditAction::UserLoginFailed,
        target: account,
        details: json!({
            "email": email,
            "device": user_agent::summarize(client.user_agent.as_deref()),
            "two_factor": second_factor,
        }),
    };
    let Some(user_id) = account else {
        return record(store.pool(), event).await;
    };
    let mut tx = store.begin().await?;
    in_every_cluster(&mut tx, user_id, event).await?;
    tx.commit().await?;
    Ok(())
}

/// `event` (in no cluster) and a copy in each cluster `user_id` is a member of now.
async fn in_every_cluster(
    tx: &mut Tx<'_>,
    user_id: &str,
    event: NewEvent<'_>,
) -> Result<(), DomainError> {
    for cluster in memberships::clusters_of(&mut **tx, user_id).await? {
        let copy = NewEvent {
            cluster_id: Some(&cluster.id),
            actor_user_id: event.actor_user_id,
            actor_token_id: event.actor_token_id,
            client: event.client,
            action: event.action,
            target: event.target,
            details: event.details.clone(),
        };
        record(&mut **tx, copy).await?;
    }
    record(&mut **tx, event).await
}
