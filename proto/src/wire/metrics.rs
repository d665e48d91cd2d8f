//! Metrics on the wire: every sampling interval (10 s by default) dployrd sends ONE
//! [`MetricsFrame`] with its host's figures and each running service's, so Base stores a whole
//! instance's sample in one message instead of one message per metric. Percentages and loads
//! are hundredths (integers), so a frame is small and the store keeps exact integers.
//! Added in protocol 3; a protocol-2 agent never sends it and Base still accepts it.
//! [`ServiceSample::requests`] (the ingress's request figures) came later within protocol 3: an
//! optional field, so an older agent's frame still parses (no figures) and an older Base ignores
//! it (serde skips unknown fields; no message here denies them). Adding an optional field is not
//! a protocol bump: a bump would make every older Base refuse the new agent.

use serde::{Deserialize, Serialize};

use crate::ids::ServiceId;

/// One sample of the instance and its services, taken at `at_ms` (the agent's clock; Base
/// stores it under its own time of arrival).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsFrame {
    pub at_ms: i64,
    pub host: HostSample,
    #[serde(default)]
    pub services: Vec<ServiceSample>,
}

/// The machine's figures. CPU and the network rates are over the last interval, so the first
/// frame after dployrd starts leaves them out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSample {
    /// All cores busy = 10000 (hundredths of a percent of the whole machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_centi_pct: Option<u32>,
    /// The 1, 5 and 15 minute load averages, in hundredths.
    pub load_centi: [u32; 3],
    pub mem_used_bytes: u64,
    pub mem_total_bytes: u64,
    pub swap_used_bytes: u64,
    pub swap_total_bytes: u64,
    /// The filesystem of dployrd's data directory.
    pub disk_used_bytes: u64,
    pub disk_total_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rx_bytes_per_sec: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_bytes_per_sec: Option<u64>,
}

/// One service's figures: its processes (its cgroup's, or its process group's where there
/// are no cgroups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSample {
    pub service_id: ServiceId,
    /// One core fully busy = 10000; absent on its first sample or when unknown (a container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_centi_pct: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_bytes: Option<u64>,
    /// Restarts since dployrd started supervising it (crashes and failed health checks).
    pub restarts: u32,
    /// What the ingress answered for it over the interval; absent when it has no route (a
    /// worker) or the agent predates request metrics.
    #[serde(default, rename = "req", skip_serializing_if = "Option::is_none")]
    pub requests: Option<RequestSample>,
}

/// One service's requests through the ingress over one interval (both listeners, all workers).
/// Latency is from the request's head to the release's response head, as the ingress saw it.
/// Short names on the wire: a frame carries one of these per service, and 200 services must
/// still fit one control message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSample {
    #[serde(rename = "n")]
    pub requests: u64,
    /// Responses by status class: 2xx, 3xx, 4xx, 5xx (the ingress's own 502 when the release
    /// does not answer counts as 5xx). A `101` (WebSocket) is counted in `requests` only.
    #[serde(rename = "s")]
    pub status: [u64; 4],
    /// Request body bytes received from clients, response body bytes sent to them.
    #[serde(rename = "bi")]
    pub bytes_in: u64,
    #[serde(rename = "bo")]
    pub bytes_out: u64,
    /// Latency percentiles in microseconds, from a log histogram (within 1/8 of the value);
    /// absent when there were no requests.
    #[serde(default, rename = "l", skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<Percentiles>,
}

/// The 50th, 95th and 99th percentiles of a distribution; `[p50, p95, p99]` on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[u64; 3]", into = "[u64; 3]")]
pub struct Percentiles {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
}

impl From<[u64; 3]> for Percentiles {
    fn from([p50, p95, p99]: [u64; 3]) -> Self {
        Self { p50, p95, p99 }
    }
}

impl From<Percentiles> for [u64; 3] {
    fn from(p: Percentiles) -> Self {
        [p.p50, p.p95, p.p99]
    }
}
