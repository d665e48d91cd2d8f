//! REST bodies of stored metrics (`/api/v1/services/{id}/metrics`,
//! `/api/v1/instances/{id}/metrics`): one series of points, oldest first, at the resolution Base
//! keeps for that age (10 s for a day, 1 min for a week, 1 h for 90 days) or coarser if asked.
//! Percentages and loads are hundredths, as dployrd sends them.

use serde::{Deserialize, Serialize};

/// `?since=1h&step=60`: how far back (`30m`, `6h`, `7d`, or seconds) and the least spacing of
/// points in seconds (Base picks the finest resolution it keeps for that age otherwise).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct MetricsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
}

/// One point: averages over its step (restarts: the count at its end).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricPoint {
    /// Start of the step, RFC 3339.
    pub at: String,
    /// Hundredths of a percent: of one core for a service, of the whole machine for an instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_centi_pct: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_bytes: Option<i64>,
    /// A service's restarts so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<i64>,
    /// The instance's figures; absent for a service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostPoint>,
    /// A service's requests through the ingress in this step; absent for an instance, a
    /// service without a route, or an agent that does not send them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<RequestPoint>,
}

/// A service's requests in one step: counts are sums over the step; the latency percentiles
/// (microseconds, request head to response head) are the largest of the 10 s points in the
/// step, an upper bound of the step's own percentile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestPoint {
    pub count: i64,
    pub status_2xx: i64,
    pub status_3xx: i64,
    pub status_4xx: i64,
    pub status_5xx: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_us: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_us: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_us: Option<i64>,
}

/// The figures only an instance has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostPoint {
    pub mem_total_bytes: i64,
    pub load1_centi: i64,
    pub load5_centi: i64,
    pub load15_centi: i64,
    pub swap_used_bytes: i64,
    pub swap_total_bytes: i64,
    pub disk_used_bytes: i64,
    pub disk_total_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rx_bytes_per_sec: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_bytes_per_sec: Option<i64>,
}

/// A service's or an instance's series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricSeries {
    /// The spacing of the stored points returned, in seconds (10, 60 or 3600).
    pub step_secs: u32,
    pub points: Vec<MetricPoint>,
}
