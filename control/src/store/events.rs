//! SQL for `events`, the append-only audit log: insert and read, never update or delete.

use proto::api::{AuditAction, EventFilter};
use sqlx::FromRow;

use super::query::Arg::{Int, OptText, Text};
use super::query::{Arg, Exec, Table, insert_into, select};

#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub id: String,
    pub cluster_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_token_id: Option<String>,
    /// The acting token's name (joined when reading).
    #[sqlx(default)]
    pub actor_token_name: Option<String>,
    pub actor_ip: Option<String>,
    pub actor_user_agent: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub details: String,
    pub created_at: i64,
}

impl Table for EventRow {
    const FROM: &'static str = "events e LEFT JOIN users u ON u.id = e.actor_user_id \
                                LEFT JOIN api_tokens t ON t.id = e.actor_token_id";
    const COLUMNS: &'static str = "e.id, e.cluster_id, e.actor_user_id, u.name AS actor_name, \
                                   e.actor_ip, e.actor_user_agent, e.action, e.target, \
                                   e.details, e.created_at, e.actor_token_id, \
                                   t.name AS actor_token_name";
}

pub async fn insert(db: impl Exec<'_>, e: &EventRow) -> sqlx::Result<()> {
    let args = [
        Text(&e.id),
        OptText(e.cluster_id.as_deref()),
        OptText(e.actor_user_id.as_deref()),
        OptText(e.actor_ip.as_deref()),
        OptText(e.actor_user_agent.as_deref()),
        Text(&e.action),
        OptText(e.target.as_deref()),
        Text(&e.details),
        Int(e.created_at),
        OptText(e.actor_token_id.as_deref()),
    ];
    let into = "events (id, cluster_id, actor_user_id, actor_ip, actor_user_agent, action, \
                target, details, created_at, actor_token_id)";
    insert_into(db, into, &args).await
}

/// The newest events of a cluster, newest first.
pub async fn recent(
    db: impl Exec<'_>,
    cluster_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    let condition = "e.cluster_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2";
    select(db, condition, &[Text(cluster_id), Int(limit)]).await
}

/// One user's security log, newest first: what they did to their own account in no cluster
/// (sign-ins, password changes, sessions signed out) and the failed attempts to sign in as
/// them (which have no actor, only the account as target).
pub async fn of_user(db: impl Exec<'_>, user_id: &str, limit: i64) -> sqlx::Result<Vec<EventRow>> {
    let condition = "e.cluster_id IS NULL AND (e.actor_user_id = $1 \
                     OR (e.actor_user_id IS NULL AND e.target = $1 AND e.action = $2)) \
                     ORDER BY e.created_at DESC, e.id DESC LIMIT $3";
    let failed = AuditAction::UserLoginFailed.as_str();
    select(db, condition, &[Text(user_id), Text(failed), Int(limit)]).await
}

/// A page of a cluster's events matching `f`, newest first. Ids are time-ordered ULIDs, so the
/// id alone is the cursor.
pub async fn page(
    db: impl Exec<'_>,
    cluster_id: &str,
    f: &EventFilter,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    // What follows WHERE; the values go in `args`.
    let mut condition = "e.cluster_id = $1".to_string();
    let mut args: Vec<String> = vec![cluster_id.to_string()];
    // Appends a placeholder for `value` and returns its name (`$n`).
    let mut bind = |value: String| {
        args.push(value);
        format!("${}", args.len())
    };
    if let Some(a) = &f.actor {
        let (user, token) = (bind(a.clone()), bind(a.clone()));
        condition.push_str(&format!(
            " AND (e.actor_user_id = {user} OR e.actor_token_id = {token})"
        ));
    }
    if let Some(a) = &f.action {
        match a
            .strip_suffix('*')
            .or_else(|| a.ends_with('.').then_some(a.as_str()))
        {
            Some(prefix) => {
                let escaped = prefix
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let p = bind(format!("{escaped}%"));
                condition.push_str(&format!(" AND e.action LIKE {p} ESCAPE '\\'"));
            }
            None => {
                let p = bind(a.clone());
                condition.push_str(&format!(" AND e.action = {p}"));
            }
        }
    }
    if let Some(t) = &f.target {
        let p = bind(t.clone());
        condition.push_str(&format!(" AND e.target = {p}"));
    }
    if let Some(b) = &f.cursor {
        let p = bind(b.clone());
        condition.push_str(&format!(" AND e.id < {p}"));
    }
    condition.push_str(&format!(" ORDER BY e.id DESC LIMIT {}", limit.max(1)));
    let args: Vec<Arg> = args.iter().map(|a| Text(a)).collect();
    select(db, &condition, &args).await
}
