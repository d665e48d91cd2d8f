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
    /// The ingress's figures for a service (migration 0017): counts in the point's step.
    pub req_count: Option<i64>,
    pub req_2xx: Option<i64>,
    pub req_3xx: Option<i64>,
    pub req_4xx: Option<i64>,
    pub req_5xx: Option<i64>,
    pub req_bytes_in: Option<i64>,
    pub req_bytes_out: Option<i64>,
    pub req_p50_us: Option<i64>,
    pub req_p95_us: Option<i64>,
    pub req_p99_us: Option<i64>,
}

/// How a rollup (and a coarser step when reading) combines a column's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Levels (CPU, memory, load): the average.
    Avg,
    /// Counts over the point's step (requests, bytes): the sum.
    Sum,
    /// Counts so far (restarts) and latency percentiles: the largest. For a percentile that is
    /// an upper bound of the combined one (no more than 1 % of the whole can lie above the
    /// largest of the parts' p99s).
    Max,
}

const KEY: &str = "instance_id, service_id, tier, at";
/// The value columns, in [`PointRow`]'s order, and how each combines.
pub const VALUES: [(&str, Combine); 23] = [
    ("cpu_centi_pct", Combine::Avg),
    ("mem_bytes", Combine::Avg),
    ("restarts", Combine::Max),
    ("mem_total_bytes", Combine::Avg),
    ("load1_centi", Combine::Avg),
    ("load5_centi", Combine::Avg),
    ("load15_centi", Combine::Avg),
    ("swap_used_bytes", Combine::Avg),
    ("swap_total_bytes", Combine::Avg),
    ("disk_used_bytes", Combine::Avg),
    ("disk_total_bytes", Combine::Avg),
    ("rx_bps", Combine::Avg),
    ("tx_bps", Combine::Avg),
    ("req_count", Combine::Sum),
    ("req_2xx", Combine::Sum),
    ("req_3xx", Combine::Sum),
    ("req_4xx", Combine::Sum),
    ("req_5xx", Combine::Sum),
    ("req_bytes_in", Combine::Sum),
    ("req_bytes_out", Combine::Sum),
    ("req_p50_us", Combine::Max),
    ("req_p95_us", Combine::Max),
    ("req_p99_us", Combine::Max),
];

impl PointRow {
    /// The value columns, in [`VALUES`]' order.
    pub fn values(&self) -> [Option<i64>; 23] {
        [
            self.cpu_centi_pct,
            self.mem_bytes,
            self.restarts,
            self.mem_total_bytes,
            self.load1_centi,
            self.load5_centi,
            self.load15_centi,
            self.swap_used_bytes,
            self.swap_total_bytes,
            self.disk_used_bytes,
            self.disk_total_bytes,
            self.rx_bps,
            self.tx_bps,
            self.req_count,
            self.req_2xx,
            self.req_3xx,
            self.req_4xx,
            self.req_5xx,
            self.req_bytes_in,
            self.req_bytes_out,
            self.req_p50_us,
            self.req_p95_us,
            self.req_p99_us,
        ]
    }

    /// The row with its value columns replaced, in [`VALUES`]' order.
    pub fn with_values(self, v: [Option<i64>; 23]) -> Self {
        let [
            cpu_centi_pct,
            mem_bytes,
            restarts,
            mem_total_bytes,
            load1_centi,
            load5_centi,
            load15_centi,
            swap_used_bytes,
            swap_total_bytes,
            disk_used_bytes,
            disk_total_bytes,
            rx_bps,
            tx_bps,
            req_count,
            req_2xx,
            req_3xx,
            req_4xx,
            req_5xx,
            req_bytes_in,
            req_bytes_out,
            req_p50_us,
            req_p95_us,
            req_p99_us,
        ] = v;
        Self {
            cpu_centi_pct,
            mem_bytes,
            restarts,
            mem_total_bytes,
            load1_centi,
            load5_centi,
            load15_centi,
            swap_used_bytes,
            swap_total_bytes,
            disk_used_bytes,
            disk_total_bytes,
            rx_bps,
            tx_bps,
            req_count,
            req_2xx,
            req_3xx,
            req_4xx,
            req_5xx,
            req_bytes_in,
            req_bytes_out,
            req_p50_us,
            req_p95_us,
            req_p99_us,
            ..self
        }
    }
}

impl Table for PointRow {
    const FROM: &'static str = "metric_points";
    const COLUMNS: &'static str = "instance_id, service_id, tier, at, cpu_centi_pct, mem_bytes, \
        restarts, mem_total_bytes, load1_centi, load5_centi, load15_centi, swap_used_bytes, \
        swap_total_bytes, disk_used_bytes, disk_total_bytes, rx_bps, tx_bps, req_count, req_2xx, \
        req_3xx, req_4xx, req_5xx, req_bytes_in, req_bytes_out, req_p50_us, req_p95_us, req_p99_us";
}

/// Stores `rows` in one statement; a second point of the same series in the same slot is merged
/// into the first, so a series never holds more than one row per slot: levels are replaced by
/// the newer, counts over the step add up (an agent sampling faster than 10 s, or two frames
/// that land in one slot, lose no request), the largest of restarts and percentiles stays.
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
        .map(|(c, combine)| match combine {
            Combine::Avg => format!("{c} = excluded.{c}"),
            // NULL-safe and the same on SQLite and PostgreSQL (their MAX/GREATEST of a NULL
            // differ).
            Combine::Sum => format!(
                "{c} = CASE WHEN metric_points.{c} IS NULL THEN excluded.{c} \
                 WHEN excluded.{c} IS NULL THEN metric_points.{c} \
                 ELSE metric_points.{c} + excluded.{c} END"
            ),
            Combine::Max => format!(
                "{c} = CASE WHEN metric_points.{c} IS NULL OR excluded.{c} > metric_points.{c} \
                 THEN excluded.{c} ELSE metric_points.{c} END"
            ),
        })
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
        args.extend(r.values().map(OptInt));
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
        .map(|(c, combine)| match combine {
            Combine::Max => format!("MAX({c})"),
            Combine::Sum => format!("CAST(SUM({c}) AS BIGINT)"),
            Combine::Avg => format!("CAST(AVG({c}) AS BIGINT)"),
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
