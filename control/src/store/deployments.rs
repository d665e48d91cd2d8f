//! SQL for `deployments` and `deployment_transitions`.

use proto::deploy::DeployState;
use sqlx::{Executor, FromRow};

use super::{Db, Named};

#[derive(Debug, Clone, FromRow)]
pub struct DeploymentRow {
    pub id: String,
    pub service_id: String,
    #[sqlx(try_from = "Named<DeployState>")]
    pub state: DeployState,
    pub git_ref: Option<String>,
    pub commit_sha: Option<String>,
    pub reason: Option<String>,
    /// JSON array of the last output lines of a failed deployment.
    pub log_tail: Option<String>,
    /// JSON array of the build plan's lines, once dployrd sent it.
    pub plan: Option<String>,
    /// JSON of the `ServiceSpec` this deployment runs.
    pub spec: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub accepted_at: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct TransitionRow {
    pub deployment_id: String,
    #[sqlx(try_from = "Named<DeployState>")]
    pub state: DeployState,
    pub at: i64,
}

const COLUMNS: &str = "id, service_id, state, git_ref, commit_sha, reason, log_tail, plan, spec, \
                       created_by, created_at, updated_at, accepted_at";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    row: &DeploymentRow,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO deployments ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&row.id)
    .bind(&row.service_id)
    .bind(row.state.as_str())
    .bind(&row.git_ref)
    .bind(&row.commit_sha)
    .bind(&row.reason)
    .bind(&row.log_tail)
    .bind(&row.plan)
    .bind(&row.spec)
    .bind(&row.created_by)
    .bind(row.created_at)
    .bind(row.updated_at)
    .bind(row.accepted_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
) -> sqlx::Result<Option<DeploymentRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM deployments WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Newest first.
pub async fn of_service<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<DeploymentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE service_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(service_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Newest first, strictly older than `before` (`created_at`, id) when given: one page of a
/// service's deployments (keyset, so pages neither repeat nor skip as new ones arrive).
pub async fn page_of_service<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    before: Option<(i64, &str)>,
    limit: i64,
) -> sqlx::Result<Vec<DeploymentRow>> {
    // No cursor: everything is older than the end of time.
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE service_id = $1 \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(service_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Which deployments [`in_states`] lists, besides their state.
#[derive(Debug, Default, Clone, Copy)]
pub struct Scope<'a> {
    /// Only those of services on this instance.
    pub instance_id: Option<&'a str>,
    /// Only those the agent accepted (`Some(true)`) or has not yet (`Some(false)`).
    pub accepted: Option<bool>,
    /// Only those created strictly before this time (ms).
    pub created_before: Option<i64>,
}

/// A deployment with the instance that runs it.
#[derive(Debug, FromRow)]
pub struct Placed {
    #[sqlx(flatten)]
    pub row: DeploymentRow,
    pub instance_id: String,
    pub instance_name: String,
    /// When the instance's agent last said hello or left (ms), if it ever connected.
    pub last_seen_at: Option<i64>,
}

/// Deployments in one of `states` and in `scope`, oldest first, with their instance. The
/// filtering is SQL's: callers run this on every reconnect and every sweep.
pub async fn in_states<'e>(
    db: impl Executor<'e, Database = Db>,
    states: &[DeployState],
    scope: Scope<'_>,
) -> sqlx::Result<Vec<Placed>> {
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let mut n = 0;
    let mut param = || {
        n += 1;
        format!("${n}")
    };
    let list = states
        .iter()
        .map(|_| param())
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "SELECT d.id, d.service_id, d.state, d.git_ref, d.commit_sha, d.reason, d.log_tail, \
         d.plan, d.spec, d.created_by, d.created_at, d.updated_at, d.accepted_at, s.instance_id, \
         i.name AS instance_name, i.last_seen_at \
         FROM deployments d JOIN services s ON s.id = d.service_id \
         JOIN instances i ON i.id = s.instance_id WHERE d.state IN ({list})"
    );
    if scope.instance_id.is_some() {
        sql += &format!(" AND s.instance_id = {}", param());
    }
    match scope.accepted {
        Some(true) => sql += " AND d.accepted_at IS NOT NULL",
        Some(false) => sql += " AND d.accepted_at IS NULL",
        None => {}
    }
    if scope.created_before.is_some() {
        sql += &format!(" AND d.created_at < {}", param());
    }
    sql += " ORDER BY d.created_at, d.id";
    let mut q = sqlx::query_as(&sql);
    for s in states {
        q = q.bind(s.as_str());
    }
    if let Some(instance) = scope.instance_id {
        q = q.bind(instance);
    }
    if let Some(before) = scope.created_before {
        q = q.bind(before);
    }
    q.fetch_all(db).await
}

/// The orders `instance_id`'s agent has not accepted yet, oldest first: what to deliver.
pub async fn queued_for<'e>(
    db: impl Executor<'e, Database = Db>,
    instance_id: &str,
) -> sqlx::Result<Vec<Placed>> {
    let scope = Scope {
        instance_id: Some(instance_id),
        accepted: Some(false),
        created_before: None,
    };
    in_states(db, &[DeployState::Queued], scope).await
}

/// Moves a deployment to `state` if it is still in `from` (compare-and-set, so two writers
/// cannot both move it), and records the transition. Returns whether it moved.
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    db: &mut sqlx::AnyConnection,
    id: &str,
    from: &str,
    state: &str,
    commit: Option<&str>,
    reason: Option<&str>,
    log_tail: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE deployments SET state = $1, commit_sha = COALESCE($2, commit_sha), \
         reason = COALESCE($3, reason), log_tail = COALESCE($4, log_tail), updated_at = $5 \
         WHERE id = $6 AND state = $7",
    )
    .bind(state)
    .bind(commit)
    .bind(reason)
    .bind(log_tail)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    record_transition(&mut *db, id, state, now).await?;
    Ok(true)
}

/// Stores a deployment's build plan (a JSON array of lines); dployrd sends it once.
pub async fn set_plan<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    plan: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE deployments SET plan = $1 WHERE id = $2")
        .bind(plan)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn record_transition<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    state: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO deployment_transitions (deployment_id, state, at) VALUES ($1, $2, $3)",
    )
    .bind(id)
    .bind(state)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_accepted<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE deployments SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn transitions_of<'e>(
    db: impl Executor<'e, Database = Db>,
    ids: &[String],
) -> sqlx::Result<Vec<TransitionRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT deployment_id, state, at FROM deployment_transitions \
         WHERE deployment_id IN ({placeholders})"
    );
    let mut q = sqlx::query_as(&sql);
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(db).await
}
