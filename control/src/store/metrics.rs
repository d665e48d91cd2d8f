//! SQL for `metric_points`: the raw points dployrd's frames become, their 1-minute and 1-hour
//! rollups, and the retention that deletes each resolution once it is older than it is kept.

use sqlx::FromRow;

use super::query::Arg::{Int, OptInt, Text};
use super::query::{self, Exec, Table, execute, run};

/// One stored point of one series at one resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct PointRow {
    pub instance_id: String,
    /// `''` for the instance's host.
    pub service_id: String,
    pub tier: i64,
    pub at: i64,
    pub cpu_centi_pct: Option<i64>,
    pub mem_bytes: Option<i64>,
    pub restarts: Option<i64>,
    pub mem_total_bytes: Option<i64>,
    pub load1_centi: Option<i64>,
    pub load5_centi: Option<i64>,
    pub load15_centi: Option<i64>,
    pub swap_used_bytes: Option<i64>,
    pub swap_total_bytes: Option<i64>,
    pub disk_used_bytes: Option<i64>,
    pub disk_total_bytes: Option<i64>,
    pub rx_bps: Option<i64>,
    pub tx_bps: Option<i64>,
}

const KEY: &str = "instance_id, service_id, tier, at";
/// The value columns, in [`PointRow`]'s order; each is averaged by a rollup but `restarts`,
/// which is a count so far and keeps its largest value.
const VALUES: [&str; 13] = [
    "cpu_centi_pct",
    "mem_bytes",
    "restarts",
    "mem_total_bytes",
    "load1_centi",
    "load5_centi",
    "load15_centi",
    "swap_used_bytes",
    "swap_total_bytes",
    "disk_used_bytes",
    "disk_total_bytes",
    "rx_bps",
    "tx_bps",
];

impl Table for PointRow {
    const FROM: &'static str = "metric_points";
    const COLUMNS: &'static str = "instance_id, service_id, tier, at, cpu_centi_pct, mem_bytes, \
        restarts, mem_total_bytes, load1_centi, load5_centi, load15_centi, swap_used_bytes, \
        swap_total_bytes, disk_used_bytes, disk_total_bytes, rx_bps, tx_bps";
}

/// Stores `rows` in one statement; a second point of the same series in the same slot replaces
/// the first, so a series never holds more than one row per slot.
pub async fn upsert(db: impl Exec<'_>, rows: &[PointRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let width = 4 + VALUES.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|i| format!("({})", query::placeholders(i * width + 1..=(i + 1) * width)))
        .collect();
    let updates: Vec<String> = VALUES
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO metric_points ({}) VALUES {} ON CONFLICT ({KEY}) DO UPDATE SET {}",
        PointRow::COLUMNS,
        tuples.join(", "),
        updates.join(", ")
    );
    let mut args = Vec::with_capacity(rows.len() * width);
    for r in rows {
        args.extend([
            Text(&r.instance_id),
            Text(&r.service_id),
            Int(r.tier),
            Int(r.at),
        ]);
        args.extend(
            [
                r.cpu_centi_pct,
                r.mem_bytes,
                r.restarts,
                r.mem_total_bytes,
                r.load1_centi,
                r.load5_centi,
                r.load15_centi,
                r.swap_used_bytes,
                r.swap_total_bytes,
                r.disk_used_bytes,
                r.disk_total_bytes,
                r.rx_bps,
                r.tx_bps,
            ]
            .map(OptInt),
        );
    }
    run(db, &sql, &args).await
}

/// The ids of the services on `instance_id`.
pub async fn services_on(db: impl Exec<'_>, instance_id: &str) -> sqlx::Result<Vec<String>> {
    let sql = "SELECT id FROM services WHERE instance_id = $1";
    let rows: Vec<(String,)> = query::all(db, sql, &[Text(instance_id)]).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The newest slot of `tier` across all series, if it has any row.
pub async fn newest(db: impl Exec<'_>, tier: i64) -> sqlx::Result<Option<i64>> {
    let sql = "SELECT MAX(at) FROM metric_points WHERE tier = $1";
    query::scalar::<Option<i64>>(db, sql, &[Int(tier)]).await
}

/// The oldest slot of `tier` across all series, if it has any row.
pub async fn oldest(db: impl Exec<'_>, tier: i64) -> sqlx::Result<Option<i64>> {
    let sql = "SELECT MIN(at) FROM metric_points WHERE tier = $1";
    query::scalar::<Option<i64>>(db, sql, &[Int(tier)]).await
}

/// Writes the `to` rows of every `bucket_ms` slot in `[start, end)` from the `from` rows in it,
/// per series; a slot already rolled up is left as it is. `start` and `end` are multiples of
/// `bucket_ms`.
pub async fn roll_up(
    db: impl Exec<'_>,
    from: i64,
    to: i64,
    bucket_ms: i64,
    start: i64,
    end: i64,
) -> sqlx::Result<u64> {
    let aggregates: Vec<String> = VALUES
        .iter()
        .map(|c| match *c {
            "restarts" => format!("MAX({c})"),
            _ => format!("CAST(AVG({c}) AS BIGINT)"),
        })
        .collect();
    // `bucket_ms` is one of the code's own constants, written into the SQL so that PostgreSQL
    // sees the same expression in the SELECT list and the GROUP BY.
    let slot = format!("(at / {bucket_ms}) * {bucket_ms}");
    let sql = format!(
        "INSERT INTO metric_points ({}) SELECT instance_id, service_id, $1, {slot}, {} \
         FROM metric_points WHERE tier = $2 AND at >= $3 AND at < $4 \
         GROUP BY instance_id, service_id, {slot} ON CONFLICT DO NOTHING",
        PointRow::COLUMNS,
        aggregates.join(", ")
    );
    execute(db, &sql, &[Int(to), Int(from), Int(start), Int(end)]).await
}

/// Deletes the rows of `tier` older than `before`.
pub async fn prune(db: impl Exec<'_>, tier: i64, before: i64) -> sqlx::Result<u64> {
    let sql = "DELETE FROM metric_points WHERE tier = $1 AND at < $2";
    execute(db, sql, &[Int(tier), Int(before)]).await
}

/// One series at `tier` from `since` on, oldest first.
pub async fn series(
    db: impl Exec<'_>,
    instance_id: &str,
    service_id: &str,
    tier: i64,
    since: i64,
) -> sqlx::Result<Vec<PointRow>> {
    let condition = "instance_id = $1 AND service_id = $2 AND tier = $3 AND at >= $4 ORDER BY at";
    let args = [Text(instance_id), Text(service_id), Int(tier), Int(since)];
    query::select(db, condition, &args).await
}

/// How many rows each tier holds (tests and benchmarks watch the growth).
pub async fn counts(db: impl Exec<'_>) -> sqlx::Result<[i64; 3]> {
    let sql = "SELECT tier, COUNT(*) FROM metric_points GROUP BY tier";
    let rows: Vec<(i64, i64)> = query::all(db, sql, &[]).await?;
    let mut out = [0; 3];
    for (tier, n) in rows {
        if let Some(slot) = usize::try_from(tier).ok().and_then(|t| out.get_mut(t)) {
            *slot = n;
        }
    }
    Ok(out)
}
