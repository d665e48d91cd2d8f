//! The metrics load a swarm agent puts on Base (`--metrics-every`): one [`MetricsFrame`] per
//! interval, as dployrd sends, with a host sample whose figures move a little each time and
//! `--services` service samples (with request figures), so Base's cost of storing and rolling
//! up a fleet's metrics can be measured (`.ci/bench-metrics`). Base keeps only the samples of
//! services it knows on that instance; a swarm's instances have none, so service samples cost
//! Base their parsing and one lookup, not rows.

use std::time::Duration;

use proto::wire::{HostSample, MetricsFrame, Percentiles, RequestSample, ServiceSample};

/// The frame the `n`th agent sends on its `seq`th interval.
pub fn frame(n: usize, seq: u64, services: usize) -> MetricsFrame {
    let wobble = seq % 7;
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    MetricsFrame {
        at_ms,
        host: HostSample {
            cpu_centi_pct: Some(1_000 + (wobble * 100) as u32),
            load_centi: [50, 40, 30],
            mem_used_bytes: (1 << 30) + wobble * (1 << 20),
            mem_total_bytes: 4 << 30,
            swap_used_bytes: 0,
            swap_total_bytes: 1 << 30,
            disk_used_bytes: 20 << 30,
            disk_total_bytes: 80 << 30,
            rx_bytes_per_sec: Some(10_000 + wobble),
            tx_bytes_per_sec: Some(20_000 + wobble),
        },
        services: (0..services)
            .map(|s| ServiceSample {
                service_id: format!("svc_swarm{n}x{s}").as_str().into(),
                cpu_centi_pct: Some(500),
                mem_bytes: Some(100 << 20),
                restarts: 0,
                requests: Some(RequestSample {
                    requests: 100 + wobble,
                    status: [90, 5, 5, wobble],
                    bytes_in: 10_000,
                    bytes_out: 100_000,
                    latency_us: Some(Percentiles {
                        p50: 2_000,
                        p95: 8_000,
                        p99: 20_000,
                    }),
                }),
            })
            .collect(),
    }
}

/// When agent `n`'s first frame goes: spread over one interval, so a thousand agents that came
/// online together do not all report in the same instant.
pub fn first_delay(n: usize, every: Duration) -> Duration {
    let ms = every.as_millis().max(1) as u64;
    Duration::from_millis((n as u64).wrapping_mul(7_919) % ms)
}
