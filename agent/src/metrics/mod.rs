//! dployrd's metrics sampler (issue 19): every interval (10 s unless `--metrics-interval` says
//! otherwise) it looks at the machine ([`host`]) and at each service with a live release
//! ([`procs`], through the processes the engine's supervisors register), turns the counters
//! into rates against the previous look, adds what the ingress counted for each service since
//! the last look (requests, status classes, bytes, latency percentiles; see
//! `crate::ingress::meter`), and sends ONE [`AgentMsg::Metrics`] frame. While Base
//! is unreachable the frames queue with the other reports and are dropped at the next `Hello`
//! like them: metrics are for now, not a backlog.

pub mod host;
pub mod procs;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use proto::ids::ServiceId;
use proto::wire::{AgentMsg, HostSample, MetricsFrame, RequestSample, ServiceSample};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::Engine;
use crate::ingress::meter::Counts;
use host::HostNow;

/// The default sampling interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// What the previous look found, to turn counters into rates.
#[derive(Default)]
struct Previous {
    at: Option<Instant>,
    host: HostNow,
    services: HashMap<ServiceId, u64>,
}

/// Samples every `every` and sends each frame to `out` (the connection's report queue) until
/// that queue is gone. The first frame has no CPU or network rates (nothing to compare to).
pub fn start(
    engine: Engine,
    data_dir: PathBuf,
    every: Duration,
    out: mpsc::UnboundedSender<AgentMsg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut prev = Previous::default();
        loop {
            tick.tick().await;
            let meters = engine.service_meters();
            let requests = engine.request_counts().await;
            let dir = data_dir.clone();
            // procfs reads are quick but blocking; a process-group scan reads all of /proc.
            let looked = tokio::task::spawn_blocking(move || {
                let host = host::look(&dir);
                let services: Vec<_> = meters
                    .into_iter()
                    .map(|m| {
                        let (mut cpu, mut mem) = (None::<u64>, None::<u64>);
                        for meter in &m.meters {
                            let (c, r) = procs::measure(meter);
                            cpu = add(cpu, c);
                            mem = add(mem, r);
                        }
                        (m, cpu, mem)
                    })
                    .collect();
                (host, services)
            })
            .await;
            let Ok((now_host, services)) = looked else {
                continue;
            };
            let frame = frame(&mut prev, now_host, services, requests);
            if out.send(AgentMsg::Metrics(frame)).is_err() {
                return;
            }
        }
    })
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    }
}

/// The frame for what was just seen, and that look kept as the previous one.
fn frame(
    prev: &mut Previous,
    now_host: HostNow,
    services: Vec<(
        crate::engine::meters::ServiceMeters,
        Option<u64>,
        Option<u64>,
    )>,
    mut requests: HashMap<String, Counts>,
) -> MetricsFrame {
    let now = Instant::now();
    let elapsed = prev.at.map(|at| now.duration_since(at));
    let rate = |now: u64, before: u64| {
        let secs = elapsed?.as_secs_f64();
        (secs > 0.0).then(|| (now.saturating_sub(before) as f64 / secs) as u64)
    };
    let cpu_host = elapsed.and_then(|_| {
        let total = now_host.cpu.total.checked_sub(prev.host.cpu.total)?;
        let busy = now_host.cpu.busy.saturating_sub(prev.host.cpu.busy);
        (total > 0).then(|| (busy.min(total) * 10_000 / total) as u32)
    });
    let host = HostSample {
        cpu_centi_pct: cpu_host,
        load_centi: now_host.load_centi,
        mem_used_bytes: now_host.mem_used,
        mem_total_bytes: now_host.mem_total,
        swap_used_bytes: now_host.swap_used,
        swap_total_bytes: now_host.swap_total,
        disk_used_bytes: now_host.disk_used,
        disk_total_bytes: now_host.disk_total,
        rx_bytes_per_sec: rate(now_host.rx_bytes, prev.host.rx_bytes),
        tx_bytes_per_sec: rate(now_host.tx_bytes, prev.host.tx_bytes),
    };
    let mut seen = HashMap::new();
    let services = services
        .into_iter()
        .map(|(m, cpu_ns, mem)| {
            let cpu = cpu_ns.and_then(|ns| {
                if let Some(before) = prev.services.get(&m.service_id) {
                    let secs = elapsed?.as_secs_f64();
                    // A process that exited takes its time with it: never a negative rate.
                    let used = ns.saturating_sub(*before) as f64 / 1e9;
                    return (secs > 0.0).then(|| (used / secs * 10_000.0) as u32);
                }
                None
            });
            if let Some(ns) = cpu_ns {
                seen.insert(m.service_id.clone(), ns);
            }
            let requests = requests
                .remove(m.service_id.as_str())
                .map(|c| RequestSample {
                    requests: c.requests,
                    status: c.status,
                    bytes_in: c.bytes_in,
                    bytes_out: c.bytes_out,
                    latency_us: c.percentiles(),
                });
            ServiceSample {
                service_id: m.service_id,
                cpu_centi_pct: cpu,
                mem_bytes: mem,
                restarts: m.restarts,
                requests,
            }
        })
        .collect();
    *prev = Previous {
        at: Some(now),
        host: now_host,
        services: seen,
    };
    MetricsFrame {
        at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        host,
        services,
    }
}
