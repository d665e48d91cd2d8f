//! SQL for `deployments` and `deployment_transitions`.

use proto::deploy::DeployState;
use sqlx::FromRow;

use super::Named;
use super::query::Arg::{Int, OptInt, OptText, Text};
use super::query::{
    Arg, Exec, Table, all, execute, insert_into, placeholders, run, select, select_one,
};

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

impl Table for DeploymentRow {
    const FROM: &'static str = "deployments";
    const COLUMNS: &'static str = "id, service_id, state, git_ref, commit_sha, reason, log_tail, \
                                   plan, spec, created_by, created_at, updated_at, accepted_at";
}

pub async fn insert(db: impl Exec<'_>, row: &DeploymentRow) -> sqlx::Result<()> {
    let args = [
        Text(&row.id),
        Text(&row.service_id),
        Text(row.state.as_str()),
        OptText(row.git_ref.as_deref()),
        OptText(row.commit_sha.as_deref()),
        OptText(row.reason.as_deref()),
        OptText(row.log_tail.as_deref()),
        OptText(row.plan.as_deref()),
        Text(&row.spec),
        OptText(row.created_by.as_deref()),
        Int(row.created_at),
        Int(row.updated_at),
        OptInt(row.accepted_at),
    ];
    let into = format!("deployments ({})", DeploymentRow::COLUMNS);
    insert_into(db, &into, &args).await
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<DeploymentRow>> {
    select_one(db, "id = $1", &[Text(id)]).await
}

/// Newest first.
pub async fn of_service(
    db: impl Exec<'_>,
    service_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<DeploymentRow>> {
    let condition = "service_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
    select(db, condition, &[Text(service_id), Int(limit)]).await
}

/// Newest first, strictly older than `before` (`created_at`, id) when given: one page of a
/// service's deployments (keyset, so pages neither repeat nor skip as new ones arrive).
pub async fn page_of_service(
    db: impl Exec<'_>,
    service_id: &str,
    before: Option<(i64, &str)>,
    limit: i64,
) -> sqlx::Result<Vec<DeploymentRow>> {
    // No cursor: everything is older than the end of time.
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    let condition = "service_id = $1 AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
                     ORDER BY created_at DESC, id DESC LIMIT $4";
    select(
        db,
        condition,
        &[Text(service_id), Int(at), Text(id), Int(limit)],
    )
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
pub async fn in_states(
    db: impl Exec<'_>,
    states: &[DeployState],
    scope: Scope<'_>,
) -> sqlx::Result<Vec<Placed>> {
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<Arg> = states.iter().map(|s| Text(s.as_str())).collect();
    let list = placeholders(1..=args.len());
    let mut sql = format!(
        "SELECT d.id, d.service_id, d.state, d.git_ref, d.commit_sha, d.reason, d.log_tail, \
         d.plan, d.spec, d.created_by, d.created_at, d.updated_at, d.accepted_at, s.instance_id, \
         i.name AS instance_name, i.last_seen_at \
         FROM deployments d JOIN services s ON s.id = d.service_id \
         JOIN instances i ON i.id = s.instance_id WHERE d.state IN ({list})"
    );
    if let Some(instance) = scope.instance_id {
        args.push(Text(instance));
        sql += &format!(" AND s.instance_id = ${}", args.len());
    }
    match scope.accepted {
        Some(true) => sql += " AND d.accepted_at IS NOT NULL",
        Some(false) => sql += " AND d.accepted_at IS NULL",
        None => {}
    }
    if let Some(before) = scope.created_before {
        args.push(Int(before));
        sql += &format!(" AND d.created_at < ${}", args.len());
    }
    sql += " ORDER BY d.created_at, d.id";
    all(db, &sql, &args).await
}

/// The orders `instance_id`'s agent has not accepted yet, oldest first: what to deliver.
pub async fn queued_for(db: impl Exec<'_>, instance_id: &str) -> sqlx::Result<Vec<Placed>> {
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
    let sql = "UPDATE deployments SET state = $1, commit_sha = COALESCE($2, commit_sha), \
               reason = COALESCE($3, reason), log_tail = COALESCE($4, log_tail), updated_at = $5 \
               WHERE id = $6 AND state = $7";
    let args = [
        Text(state),
        OptText(commit),
        OptText(reason),
        OptText(log_tail),
        Int(now),
        Text(id),
        Text(from),
    ];
    if execute(&mut *db, sql, &args).await? != 1 {
        return Ok(false);
    }
    record_transition(&mut *db, id, state, now).await?;
    Ok(true)
}

/// Stores a deployment's build plan (a JSON array of lines); dployrd sends it once.
pub async fn set_plan(db: impl Exec<'_>, id: &str, plan: &str) -> sqlx::Result<()> {
    let sql = "UPDATE deployments SET plan = $1 WHERE id = $2";
    run(db, sql, &[Text(plan), Text(id)]).await
}

pub async fn record_transition(
    db: impl Exec<'_>,
    id: &str,
    state: &str,
    now: i64,
) -> sqlx::Result<()> {
    let into = "deployment_transitions (deployment_id, state, at)";
    insert_into(db, into, &[Text(id), Text(state), Int(now)]).await
}

pub async fn set_accepted(db: impl Exec<'_>, id: &str, now: i64) -> sqlx::Result<()> {
    let sql = "UPDATE deployments SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL";
    run(db, sql, &[Int(now), Text(id)]).await
}

pub async fn transitions_of(db: impl Exec<'_>, ids: &[String]) -> sqlx::Result<Vec<TransitionRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT deployment_id, state, at FROM deployment_transitions \
         WHERE deployment_id IN ({})",
        placeholders(1..=ids.len())
    );
    let args: Vec<Arg> = ids.iter().map(|id| Text(id)).collect();
    all(db, &sql, &args).await
}
