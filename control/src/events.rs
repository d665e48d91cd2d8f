//! The audit log: every mutation, sign-in and console session appends one event with who, from
//! where, what and on what; the actions and their descriptions are one table
//! ([`proto::api::AuditAction`]). Details never hold secrets; roles that may not see the
//! members or the variables read the events without emails, IPs and variable names.

use proto::api::{AuditAction, Event, EventFilter, EventPage, Role};
use serde_json::Value;

use crate::rbac::{self, Action, ManageEnv, May, ViewEvents, ViewMembers, authorize};
use crate::store::events::{self as sql, EventRow};
use crate::store::{Db, Tx, users};
use crate::{Actor, Base, ClientInfo, DomainError, clock, ids};

/// What happened, to be written in the same transaction as the change it describes.
#[derive(Debug)]
pub struct NewEvent<'a> {
    pub cluster_id: Option<&'a str>,
    pub actor_user_id: Option<&'a str>,
    /// The API token that acted for `actor_user_id`, if one did.
    pub actor_token_id: Option<&'a str>,
    pub client: &'a ClientInfo,
    pub action: AuditAction,
    pub target: Option<&'a str>,
    pub details: Value,
}

impl<'a> NewEvent<'a> {
    /// What a signed-in person did in a cluster, from where they did it.
    pub fn by(
        actor: &'a crate::Actor,
        cluster_id: &'a str,
        action: AuditAction,
        target: &'a str,
        details: Value,
    ) -> NewEvent<'a> {
        NewEvent {
            cluster_id: Some(cluster_id),
            actor_user_id: Some(&actor.user.id),
            actor_token_id: actor.token_id(),
            client: &actor.client,
            action,
            target: Some(target),
            details,
        }
    }

    /// What a person did to their own account (sign-up, sign-in, password change): in no
    /// cluster, aimed at themselves.
    pub fn account(
        user_id: &'a str,
        client: &'a ClientInfo,
        action: AuditAction,
        details: Value,
    ) -> NewEvent<'a> {
        NewEvent {
            cluster_id: None,
            actor_user_id: Some(user_id),
            actor_token_id: None,
            client,
            action,
            target: Some(user_id),
            details,
        }
    }
}

impl<A: Action> May<A> {
    /// What `actor`, allowed here, did in this cluster: [`NewEvent::by`] with the cluster taken
    /// from the proof.
    pub fn event<'a>(
        &'a self,
        actor: &'a Actor,
        action: AuditAction,
        target: &'a str,
        details: Value,
    ) -> NewEvent<'a> {
        NewEvent::by(actor, self.cluster_id(), action, target, details)
    }
}

/// Records `event` in `tx` and commits: a change and the event that tells of it land together.
pub async fn commit_with(mut tx: Tx<'_>, event: NewEvent<'_>) -> Result<(), DomainError> {
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn record<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    e: NewEvent<'_>,
) -> Result<(), DomainError> {
    let row = EventRow {
        id: ids::new_id(ids::EVENT),
        cluster_id: e.cluster_id.map(str::to_owned),
        actor_user_id: e.actor_user_id.map(str::to_owned),
        actor_name: None,
        actor_token_id: e.actor_token_id.map(str::to_owned),
        actor_token_name: None,
        actor_ip: e.client.ip.clone(),
        actor_user_agent: e
            .client
            .user_agent
            .as_deref()
            .map(|ua| ua.chars().take(300).collect()),
        action: e.action.as_str().to_string(),
        target: e.target.map(str::to_owned),
        details: e.details.to_string(),
        created_at: clock::now_ms(),
    };
    sql::insert(db, &row).await?;
    Ok(())
}

/// The API's event; `details` is stored as JSON text and read back as the object.
pub(crate) fn to_api(r: EventRow) -> Result<Event, DomainError> {
    let details = serde_json::from_str(&r.details).map_err(|e| {
        DomainError::Internal(format!("events.details of {} is not JSON: {e}", r.id).into())
    })?;
    Ok(Event {
        id: r.id,
        action: r.action,
        target: r.target,
        actor_id: r.actor_user_id,
        actor_name: r.actor_name,
        actor_token: r.actor_token_name.or(r.actor_token_id),
        ip: r.actor_ip,
        details,
        created_at: clock::rfc3339(r.created_at),
    })
}

/// `r` as `role` may see it (audit finding L4). Guests may read the log but not who is in
/// the cluster (`members.view`) nor a service's variables (`services.env`): for them no IP, no
/// email (in the details or as an actor's name) and no variable names.
pub(crate) fn to_api_as(r: EventRow, role: Role) -> Result<Event, DomainError> {
    let mut e = to_api(r)?;
    if !rbac::allows::<ViewMembers>(role) {
        e.ip = None;
        if e.actor_name.as_deref().is_some_and(|n| n.contains('@')) {
            e.actor_name = Some("a member".into());
        }
        scrub(&mut e.details, &["email", "ip", "user_agent", "device"]);
    }
    if !rbac::allows::<ManageEnv>(role) && e.action.starts_with("env.") {
        scrub(&mut e.details, &["key", "keys"]);
    }
    Ok(e)
}

/// Drops `keys` from `v`, and any string that holds an email address, at any depth.
fn scrub(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !keys.contains(&k.as_str()));
            for inner in map.values_mut() {
                scrub(inner, keys);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| scrub(i, keys)),
        Value::String(s) if s.contains('@') => *s = "(hidden)".into(),
        _ => {}
    }
}

/// Most events in one page.
pub const MAX_PAGE: i64 = 500;

impl Base {
    /// A cluster's newest events (at most `limit`, capped at 200).
    pub async fn cluster_events(
        &self,
        actor: &Actor,
        cluster_id: &str,
        limit: i64,
    ) -> Result<Vec<Event>, DomainError> {
        let may = authorize::<ViewEvents>(&self.store, actor, cluster_id).await?;
        let rows = sql::recent(self.store.pool(), may.cluster_id(), limit.clamp(1, 200)).await?;
        let role = may.role();
        rows.into_iter().map(|r| to_api_as(r, role)).collect()
    }

    /// A page of a cluster's events matching `filter` (newest first, at most `limit`, capped
    /// at 500), and the cursor of the next page.
    pub async fn event_page(
        &self,
        actor: &Actor,
        cluster_id: &str,
        filter: &EventFilter,
        limit: i64,
    ) -> Result<EventPage, DomainError> {
        let may = authorize::<ViewEvents>(&self.store, actor, cluster_id).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = sql::page(self.store.pool(), may.cluster_id(), filter, limit).await?;
        let next_cursor = (rows.len() as i64 == limit)
            .then(|| rows.last().map(|r| r.id.clone()))
            .flatten();
        Ok(EventPage {
            events: rows
                .into_iter()
                .map(|r| to_api_as(r, may.role()))
                .collect::<Result<_, _>>()?,
            next_cursor,
        })
    }

    /// The actor's own account events (sign-ins, password changes), newest first.
    pub async fn account_events(
        &self,
        actor: &Actor,
        limit: i64,
    ) -> Result<Vec<Event>, DomainError> {
        // Re-read the user so a deleted account cannot list anything.
        users::by_id(self.store.pool(), &actor.user.id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let rows = sql::of_user(self.store.pool(), &actor.user.id, limit.clamp(1, 200)).await?;
        rows.into_iter().map(to_api).collect()
    }
}
