//! SQL for `events`, the append-only audit log: insert and read, never update or delete.

use sqlx::{Executor, FromRow};

use super::Db;

const SELECT: &str = "e.id, e.cluster_id, e.actor_user_id, u.name AS actor_name, e.actor_ip, \
     e.actor_user_agent, e.action, e.target, e.details, e.created_at, e.actor_token_id, \
     t.name AS actor_token_name \
     FROM events e LEFT JOIN users u ON u.id = e.actor_user_id \
     LEFT JOIN api_tokens t ON t.id = e.actor_token_id";

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

pub async fn insert<'e>(db: impl Executor<'e, Database = Db>, e: &EventRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO events (id, cluster_id, actor_user_id, actor_ip, actor_user_agent, action, \
         target, details, created_at, actor_token_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&e.id)
    .bind(&e.cluster_id)
    .bind(&e.actor_user_id)
    .bind(&e.actor_ip)
    .bind(&e.actor_user_agent)
    .bind(&e.action)
    .bind(&e.target)
    .bind(&e.details)
    .bind(e.created_at)
    .bind(&e.actor_token_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The newest events of a cluster, newest first.
pub async fn recent<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(&format!(
        "SELECT {SELECT} \
         WHERE e.cluster_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2",
    ))
    .bind(cluster_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Events not tied to a cluster (sign-ins, password changes) of one user, newest first.
pub async fn of_user<'e>(
    db: impl Executor<'e, Database = Db>,
    user_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(&format!(
        "SELECT {SELECT} \
         WHERE e.actor_user_id = $1 AND e.cluster_id IS NULL \
         ORDER BY e.created_at DESC, e.id DESC LIMIT $2",
    ))
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// What to list of a cluster's events: all of it by default.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A user id or an API token id.
    pub actor: Option<String>,
    /// An action (`env.set`), or a prefix ending in `.` or `*` (`env.`, `env*`).
    pub action: Option<String>,
    pub target: Option<String>,
    /// Only events older than this event id (the cursor of the previous page).
    pub before: Option<String>,
}

/// A page of a cluster's events matching `f`, newest first. Ids are time-ordered ULIDs, so the
/// id alone is the cursor.
pub async fn page<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    f: &Filter,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    let mut sql = format!("SELECT {SELECT} WHERE e.cluster_id = $1");
    let mut args: Vec<String> = vec![cluster_id.to_string()];
    // Appends a placeholder for `value` and returns its name (`$n`).
    let mut bind = |value: String| {
        args.push(value);
        format!("${}", args.len())
    };
    if let Some(a) = &f.actor {
        let (user, token) = (bind(a.clone()), bind(a.clone()));
        sql.push_str(&format!(
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
                sql.push_str(&format!(" AND e.action LIKE {p} ESCAPE '\\'"));
            }
            None => {
                let p = bind(a.clone());
                sql.push_str(&format!(" AND e.action = {p}"));
            }
        }
    }
    if let Some(t) = &f.target {
        let p = bind(t.clone());
        sql.push_str(&format!(" AND e.target = {p}"));
    }
    if let Some(b) = &f.before {
        let p = bind(b.clone());
        sql.push_str(&format!(" AND e.id < {p}"));
    }
    sql.push_str(&format!(" ORDER BY e.id DESC LIMIT {}", limit.max(1)));
    let mut q = sqlx::query_as(&sql);
    for a in &args {
        q = q.bind(a);
    }
    q.fetch_all(db).await
}
