//! Which charts a service and an instance show, as tables: a chart is one entry, a series one
//! line in its chart's `lines` (a service's requests through the ingress: two charts).

use proto::api::MetricPoint;

use crate::components::chart::Unit;

/// One series: its name in the legend and how to read its value from a point (`None`: the
/// point does not have it, and the line is lifted there).
pub type LineSpec = (&'static str, fn(&MetricPoint) -> Option<f64>);

/// One chart.
pub struct ChartSpec {
    /// The figure's `data-chart`.
    pub id: &'static str,
    pub title: &'static str,
    pub unit: Unit,
    /// The value axis's top when the values stay under it (100 for shares of a machine).
    pub fixed_top: Option<f64>,
    pub lines: &'static [LineSpec],
}

fn n(v: i64) -> f64 {
    v as f64
}

fn millis(us: i64) -> Option<f64> {
    Some(us as f64 / 1000.0)
}

fn pct(centi: i64) -> f64 {
    centi as f64 / 100.0
}

fn share(used: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| used as f64 * 100.0 / total as f64)
}

pub const SERVICE_CHARTS: &[ChartSpec] = &[
    ChartSpec {
        id: "cpu",
        title: "CPU (of one core)",
        unit: Unit::Percent,
        fixed_top: None,
        lines: &[("CPU", |p| p.cpu_centi_pct.map(pct))],
    },
    ChartSpec {
        id: "memory",
        title: "Memory",
        unit: Unit::Bytes,
        fixed_top: None,
        lines: &[("Memory", |p| p.mem_bytes.map(n))],
    },
    ChartSpec {
        id: "requests",
        title: "Requests (per step, by status)",
        unit: Unit::Count,
        fixed_top: None,
        lines: &[
            ("2xx", |p| p.requests.as_ref().map(|r| n(r.status_2xx))),
            ("3xx", |p| p.requests.as_ref().map(|r| n(r.status_3xx))),
            ("4xx", |p| p.requests.as_ref().map(|r| n(r.status_4xx))),
            ("5xx", |p| p.requests.as_ref().map(|r| n(r.status_5xx))),
        ],
    },
    ChartSpec {
        id: "latency",
        title: "Latency to the response head",
        unit: Unit::Millis,
        fixed_top: None,
        lines: &[
            ("p50", |p| millis(p.requests.as_ref()?.p50_us?)),
            ("p99", |p| millis(p.requests.as_ref()?.p99_us?)),
        ],
    },
    ChartSpec {
        id: "restarts",
        title: "Restarts",
        unit: Unit::Count,
        fixed_top: None,
        lines: &[("Restarts", |p| p.restarts.map(n))],
    },
];

pub const HOST_CHARTS: &[ChartSpec] = &[
    ChartSpec {
        id: "host-cpu",
        title: "CPU",
        unit: Unit::Percent,
        fixed_top: Some(100.0),
        lines: &[("CPU", |p| p.cpu_centi_pct.map(pct))],
    },
    ChartSpec {
        id: "host-memory",
        title: "Memory used",
        unit: Unit::Percent,
        fixed_top: Some(100.0),
        lines: &[
            ("Memory", |p| {
                share(p.mem_bytes?, p.host.as_ref()?.mem_total_bytes)
            }),
            ("Swap", |p| {
                let h = p.host.as_ref()?;
                share(h.swap_used_bytes, h.swap_total_bytes)
            }),
        ],
    },
    ChartSpec {
        id: "host-disk",
        title: "Disk used",
        unit: Unit::Percent,
        fixed_top: Some(100.0),
        lines: &[("Disk", |p| {
            let h = p.host.as_ref()?;
            share(h.disk_used_bytes, h.disk_total_bytes)
        })],
    },
    ChartSpec {
        id: "host-network",
        title: "Network",
        unit: Unit::BytesPerSec,
        fixed_top: None,
        lines: &[
            ("In", |p| p.host.as_ref()?.rx_bytes_per_sec.map(n)),
            ("Out", |p| p.host.as_ref()?.tx_bytes_per_sec.map(n)),
        ],
    },
    ChartSpec {
        id: "host-load",
        title: "Load",
        unit: Unit::Count,
        fixed_top: None,
        lines: &[
            ("1 min", |p| Some(pct(p.host.as_ref()?.load1_centi))),
            ("5 min", |p| Some(pct(p.host.as_ref()?.load5_centi))),
            ("15 min", |p| Some(pct(p.host.as_ref()?.load15_centi))),
        ],
    },
];
