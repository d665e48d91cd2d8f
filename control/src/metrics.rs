//! Metrics from the fleet (issue 19): each agent's [`MetricsFrame`] becomes one raw point per
//! series (the instance's host, each of its services), stamped with Base's own time floored to
//! [`RAW_STEP_MS`]; a background job ([`Base::run_metrics_rollup`]) rolls raw points up into
//! 1-minute and 1-minute points into 1-hour ones and deletes each resolution past its
//! retention, by [`Base`]'s [`Clock`](crate::clock::Clock), so a test can run a week in
//! seconds. Any member of the cluster (Guests too) may read the series.
//!
//! How points combine (in a rollup and when a coarser step is read) is per column, in
//! [`sql::VALUES`]: levels average, request and byte counts add up, restarts and latency
//! percentiles keep the largest (for a percentile, an upper bound of the combined one).

use std::time::Duration;

use proto::api::{HostPoint, MetricPoint, MetricSeries, MetricsQuery, RequestPoint};
use proto::wire::MetricsFrame;

use crate::rbac::{ViewCluster, authorize};
use crate::store::metrics::{self as sql, Combine, PointRow};
use crate::{Actor, Base, DomainError, clock};

/// The spacing of raw points: one per series per 10 s, however often an agent sends.
pub const RAW_STEP_MS: i64 = 10_000;
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Each resolution: its tier number, the spacing of its points and how long they are kept.
pub const TIERS: [Tier; 3] = [
    Tier {
        id: 0,
        step_ms: RAW_STEP_MS,
        keep_ms: DAY_MS,
    },
    Tier {
        id: 1,
        step_ms: MINUTE_MS,
        keep_ms: 7 * DAY_MS,
    },
    Tier {
        id: 2,
        step_ms: HOUR_MS,
        keep_ms: 90 * DAY_MS,
    },
];

/// How often the rollup job runs in a server.
pub const ROLLUP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub id: i64,
    pub step_ms: i64,
    pub keep_ms: i64,
}

impl Base {
    /// Stores one frame from `instance_id`'s agent. Samples of services that are not on this
    /// instance are dropped, so an agent cannot grow series Base does not know.
    pub async fn record_metrics(
        &self,
        instance_id: &str,
        frame: &MetricsFrame,
    ) -> Result<(), DomainError> {
        let at = self.clock.now_ms() / RAW_STEP_MS * RAW_STEP_MS;
        let mine = sql::services_on(self.store.pool(), instance_id).await?;
        let h = &frame.host;
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let host = PointRow {
            instance_id: instance_id.to_string(),
            at,
            cpu_centi_pct: h.cpu_centi_pct.map(i64::from),
            mem_bytes: Some(int(h.mem_used_bytes)),
            mem_total_bytes: Some(int(h.mem_total_bytes)),
            load1_centi: Some(i64::from(h.load_centi[0])),
            load5_centi: Some(i64::from(h.load_centi[1])),
            load15_centi: Some(i64::from(h.load_centi[2])),
            swap_used_bytes: Some(int(h.swap_used_bytes)),
            swap_total_bytes: Some(int(h.swap_total_bytes)),
            disk_used_bytes: Some(int(h.disk_used_bytes)),
            disk_total_bytes: Some(int(h.disk_total_bytes)),
            rx_bps: h.rx_bytes_per_sec.map(int),
            tx_bps: h.tx_bytes_per_sec.map(int),
            ..PointRow::default()
        };
        let mut rows = vec![host];
        for s in &frame.services {
            // One row per service: a frame naming one twice keeps the first.
            let id = s.service_id.as_str();
            if !mine.iter().any(|m| m == id) || rows.iter().any(|r| r.service_id == id) {
                continue;
            }
            let r = s.requests.as_ref();
            let lat = r.and_then(|r| r.latency_us);
            rows.push(PointRow {
                instance_id: instance_id.to_string(),
                service_id: s.service_id.to_string(),
                at,
                cpu_centi_pct: s.cpu_centi_pct.map(i64::from),
                mem_bytes: s.mem_bytes.map(int),
                restarts: Some(i64::from(s.restarts)),
                req_count: r.map(|r| int(r.requests)),
                req_2xx: r.map(|r| int(r.status[0])),
                req_3xx: r.map(|r| int(r.status[1])),
                req_4xx: r.map(|r| int(r.status[2])),
                req_5xx: r.map(|r| int(r.status[3])),
                req_bytes_in: r.map(|r| int(r.bytes_in)),
                req_bytes_out: r.map(|r| int(r.bytes_out)),
                req_p50_us: lat.map(|l| int(l.p50)),
                req_p95_us: lat.map(|l| int(l.p95)),
                req_p99_us: lat.map(|l| int(l.p99)),
                ..PointRow::default()
            });
        }
        // One statement: the frame is stored whole or not at all.
        sql::upsert(self.store.pool(), &rows).await?;
        Ok(())
    }

    /// A service's series, for any member of its cluster; `NotFound` for anyone else.
    pub async fn service_metrics(
        &self,
        actor: &Actor,
        service_id: &str,
        query: &MetricsQuery,
    ) -> Result<MetricSeries, DomainError> {
        let (svc, _) = self.service_for::<ViewCluster>(actor, service_id).await?;
        self.series(&svc.instance_id, &svc.id, query).await
    }

    /// An instance's host series, for any member of its cluster; `NotFound` for anyone else.
    pub async fn instance_metrics(
        &self,
        actor: &Actor,
        instance_id: &str,
        query: &MetricsQuery,
    ) -> Result<MetricSeries, DomainError> {
        let row = crate::store::instances::by_id(self.store.pool(), instance_id)
            .await?
            .ok_or(DomainError::NotFound("instance"))?;
        authorize::<ViewCluster>(&self.store, actor, &row.cluster_id).await?;
        self.series(&row.id, "", query).await
    }

    async fn series(
        &self,
        instance_id: &str,
        service_id: &str,
        query: &MetricsQuery,
    ) -> Result<MetricSeries, DomainError> {
        let age = match &query.since {
            None => HOUR_MS,
            Some(s) => parse_since(s)?,
        };
        let step_ms = i64::from(query.step.unwrap_or(0)) * 1000;
        let tier = pick_tier(age, step_ms);
        let since = self.clock.now_ms() - age;
        let rows = sql::series(self.store.pool(), instance_id, service_id, tier.id, since).await?;
        let step_ms = step_ms.max(tier.step_ms);
        Ok(MetricSeries {
            step_secs: u32::try_from(step_ms / 1000).unwrap_or(u32::MAX),
            points: bucket(&rows, step_ms).iter().map(point).collect(),
        })
    }

    /// One pass of the rollup and the retention, at the clock's time: every whole minute not
    /// rolled up yet becomes 1-minute points, every whole hour 1-hour points, then each
    /// resolution's rows past its retention are deleted.
    pub async fn roll_up_metrics(&self) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        let pool = self.store.pool();
        for pair in TIERS.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            let end = now / to.step_ms * to.step_ms;
            let start = match sql::newest(pool, to.id).await? {
                Some(last) => last + to.step_ms,
                None => match sql::oldest(pool, from.id).await? {
                    Some(first) => first / to.step_ms * to.step_ms,
                    None => continue,
                },
            };
            if start < end {
                sql::roll_up(pool, from.id, to.id, to.step_ms, start, end).await?;
            }
        }
        for tier in TIERS {
            sql::prune(pool, tier.id, now - tier.keep_ms).await?;
        }
        Ok(())
    }

    /// Runs [`Base::roll_up_metrics`] every `every` until `shutdown` resolves.
    pub async fn run_metrics_rollup(
        &self,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        crate::periodic::every(every, shutdown, "rolling up metrics", || async {
            if !self.leads_jobs().await {
                return Ok(());
            }
            self.roll_up_metrics().await
        })
        .await;
    }
}

/// `30m`, `6h`, `7d`, `90s` or bare seconds, up to the longest retention, in milliseconds.
pub fn parse_since(text: &str) -> Result<i64, DomainError> {
    let bad = || DomainError::invalid("since", "a duration such as 30m, 6h or 7d, up to 90d");
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "s" => 1000,
        "m" => MINUTE_MS,
        "h" => HOUR_MS,
        "d" => DAY_MS,
        _ => return Err(bad()),
    };
    let ms = n.checked_mul(unit_ms).ok_or_else(bad)?;
    if ms <= 0 || ms > TIERS[2].keep_ms {
        return Err(bad());
    }
    Ok(ms)
}

/// The finest resolution still kept for `age`, or a coarser one whose spacing `step_ms` allows.
fn pick_tier(age: i64, step_ms: i64) -> Tier {
    let mut i = TIERS
        .iter()
        .position(|t| t.keep_ms >= age)
        .unwrap_or(TIERS.len() - 1);
    while i + 1 < TIERS.len() && TIERS[i + 1].step_ms <= step_ms {
        i += 1;
    }
    TIERS[i]
}

/// `rows` (oldest first) merged into one row per `step_ms` slot, each column as
/// [`sql::VALUES`] says (averages, sums, largest), as the rollup does.
fn bucket(rows: &[PointRow], step_ms: i64) -> Vec<PointRow> {
    let mut out: Vec<PointRow> = Vec::new();
    for group in rows.chunk_by(|a, b| a.at / step_ms == b.at / step_ms) {
        let columns: Vec<[Option<i64>; 23]> = group.iter().map(PointRow::values).collect();
        let combined = std::array::from_fn(|i| {
            let values: Vec<i64> = columns.iter().filter_map(|v| v[i]).collect();
            if values.is_empty() {
                return None;
            }
            Some(match sql::VALUES[i].1 {
                Combine::Avg => values.iter().sum::<i64>() / values.len() as i64,
                Combine::Sum => values.iter().fold(0i64, |a, v| a.saturating_add(*v)),
                Combine::Max => values.iter().copied().max().unwrap_or(0),
            })
        });
        let first = PointRow {
            at: group[0].at / step_ms * step_ms,
            ..group[0].clone()
        };
        out.push(first.with_values(combined));
    }
    out
}

fn point(r: &PointRow) -> MetricPoint {
    let host = r.service_id.is_empty().then(|| HostPoint {
        mem_total_bytes: r.mem_total_bytes.unwrap_or(0),
        load1_centi: r.load1_centi.unwrap_or(0),
        load5_centi: r.load5_centi.unwrap_or(0),
        load15_centi: r.load15_centi.unwrap_or(0),
        swap_used_bytes: r.swap_used_bytes.unwrap_or(0),
        swap_total_bytes: r.swap_total_bytes.unwrap_or(0),
        disk_used_bytes: r.disk_used_bytes.unwrap_or(0),
        disk_total_bytes: r.disk_total_bytes.unwrap_or(0),
        rx_bytes_per_sec: r.rx_bps,
        tx_bytes_per_sec: r.tx_bps,
    });
    let requests = r.req_count.map(|count| RequestPoint {
        count,
        status_2xx: r.req_2xx.unwrap_or(0),
        status_3xx: r.req_3xx.unwrap_or(0),
        status_4xx: r.req_4xx.unwrap_or(0),
        status_5xx: r.req_5xx.unwrap_or(0),
        bytes_in: r.req_bytes_in.unwrap_or(0),
        bytes_out: r.req_bytes_out.unwrap_or(0),
        p50_us: r.req_p50_us,
        p95_us: r.req_p95_us,
        p99_us: r.req_p99_us,
    });
    MetricPoint {
        at: clock::rfc3339(r.at),
        cpu_centi_pct: r.cpu_centi_pct,
        mem_bytes: r.mem_bytes,
        restarts: r.restarts,
        host,
        requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_units_and_refuses_more_than_is_kept() {
        assert_eq!(parse_since("90").unwrap(), 90_000);
        assert_eq!(parse_since("30m").unwrap(), 30 * MINUTE_MS);
        assert_eq!(parse_since("7d").unwrap(), 7 * DAY_MS);
        assert!(parse_since("91d").is_err());
        assert!(parse_since("1w").is_err());
        assert!(parse_since("").is_err());
    }

    #[test]
    fn the_finest_resolution_kept_for_the_age_unless_a_coarser_step_is_asked() {
        assert_eq!(pick_tier(HOUR_MS, 0).id, 0);
        assert_eq!(pick_tier(HOUR_MS, 60_000).id, 1);
        assert_eq!(pick_tier(2 * DAY_MS, 0).id, 1);
        assert_eq!(pick_tier(30 * DAY_MS, 0).id, 2);
        assert_eq!(pick_tier(DAY_MS, HOUR_MS).id, 2);
    }

    #[test]
    fn buckets_average_levels_add_counts_and_keep_the_largest_restarts_and_percentiles() {
        let row = |at, cpu, restarts| PointRow {
            at,
            cpu_centi_pct: Some(cpu),
            restarts: Some(restarts),
            service_id: "svc".into(),
            ..PointRow::default()
        };
        let mut rows = [row(0, 100, 1), row(10_000, 300, 2), row(60_000, 50, 2)];
        (rows[0].req_count, rows[0].req_p99_us) = (Some(5), Some(900));
        (rows[1].req_count, rows[1].req_p99_us) = (Some(7), Some(4_000));
        let out = bucket(&rows, 60_000);
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].cpu_centi_pct, out[0].restarts),
            (Some(200), Some(2))
        );
        assert_eq!(
            (out[0].req_count, out[0].req_p99_us, out[1].req_count),
            (Some(12), Some(4_000), None),
            "requests add up, percentiles keep the largest"
        );
        assert_eq!((out[1].at, out[1].cpu_centi_pct), (60_000, Some(50)));
    }
}
