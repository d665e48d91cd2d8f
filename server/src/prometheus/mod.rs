//! `GET /metrics`: Base's figures and its fleet's newest series in Prometheus' text format, for
//! people who already run Prometheus and Grafana (issue 19).
//!
//! Access: an API token (`Authorization: Bearer dp_…`) of an Owner or Admin; a browser session
//! is refused with 401 like a missing or wrong token (see `control::scrape`). What it shows:
//! - Base-wide, about Base itself: `dployr_http_requests_total` by route class and status class
//!   (no tenant's data: counts of Base's own answers).
//! - The token's cluster only: its agents' connections, deployments running and waiting for
//!   their agent (the command queue), removals waiting for their instance, finished deploy
//!   durations, and each host's and service's newest 10 s point.
//!
//! Fleet figures are gauges of the newest point (Prometheus takes its own samples of them);
//! request counts are per-second rates over that point's 10 s.

pub mod text;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use control::metrics::RAW_STEP_MS;
use control::scrape::ClusterScrape;
use control::store::scrape::DEPLOY_BUCKETS_SECS;

use crate::http_counts::HttpCounts;
use crate::rest::error::ApiResult;
use crate::rest::extract::Authed;
use crate::state::ServerState;
use text::{CONTENT_TYPE, Exposition};

pub fn router() -> Router<ServerState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(
    State(state): State<ServerState>,
    Authed(actor): Authed,
) -> ApiResult<impl IntoResponse> {
    let cluster = state.base.scrape(&actor).await?;
    let body = render(&cluster, &state.http_counts);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body))
}

/// The whole exposition: Base's counts, then the cluster's figures.
pub fn render(c: &ClusterScrape, http: &Arc<HttpCounts>) -> String {
    let mut e = Exposition::default();
    let name = "dployr_http_requests_total";
    e.family(
        name,
        "counter",
        "HTTP requests Base answered since it started, by route class and status class.",
    );
    for (route, status, n) in http.snapshot() {
        e.sample(name, &[("route", route), ("status", status)], n as f64);
    }
    let cl = c.cluster.as_str();
    let cluster = [("cluster", cl)];

    e.family(
        "dployr_agents_connected",
        "gauge",
        "Instances of the cluster whose dployrd is connected to Base.",
    );
    let online = c.instances.iter().filter(|i| i.connected).count();
    e.sample("dployr_agents_connected", &cluster, online as f64);
    e.family("dployr_instances", "gauge", "Instances of the cluster.");
    e.sample("dployr_instances", &cluster, c.instances.len() as f64);
    e.family(
        "dployr_instance_connected",
        "gauge",
        "1 while the instance's dployrd is connected.",
    );
    for i in &c.instances {
        let v = if i.connected { 1.0 } else { 0.0 };
        e.sample(
            "dployr_instance_connected",
            &[("cluster", cl), ("instance", &i.name)],
            v,
        );
    }
    e.family(
        "dployr_deploys_running",
        "gauge",
        "Deployments of the cluster in progress (queued to health checking).",
    );
    e.sample("dployr_deploys_running", &cluster, c.deploys_running as f64);
    e.family(
        "dployr_deploy_queue_depth",
        "gauge",
        "Deployment orders no agent has accepted yet (the command queue).",
    );
    e.sample(
        "dployr_deploy_queue_depth",
        &cluster,
        c.deploys_waiting as f64,
    );
    e.family(
        "dployr_removal_queue_depth",
        "gauge",
        "Deleted services whose instance has not confirmed removing them.",
    );
    e.sample(
        "dployr_removal_queue_depth",
        &cluster,
        c.removals_waiting as f64,
    );
    e.family(
        "dployr_notification_queue_depth",
        "gauge",
        "Notifications waiting to be delivered (pending, retries included).",
    );
    e.sample(
        "dployr_notification_queue_depth",
        &cluster,
        c.notifications_waiting as f64,
    );

    let name = "dployr_deploy_duration_seconds";
    e.family(name, "histogram", "Finished deployments: from creation to live (outcome=live) or to failing, being cancelled or timing out (outcome=failed).");
    for d in &c.durations {
        let mut seen = 0;
        for (bound, n) in DEPLOY_BUCKETS_SECS.iter().zip(d.buckets) {
            seen += n;
            let le = bound.to_string();
            let labels = [
                ("cluster", cl),
                ("outcome", d.outcome.as_str()),
                ("le", le.as_str()),
            ];
            e.sample(&format!("{name}_bucket"), &labels, seen as f64);
        }
        let labels = [
            ("cluster", cl),
            ("outcome", d.outcome.as_str()),
            ("le", "+Inf"),
        ];
        e.sample(&format!("{name}_bucket"), &labels, d.count as f64);
        let labels = [("cluster", cl), ("outcome", d.outcome.as_str())];
        e.sample(&format!("{name}_sum"), &labels, d.sum_ms as f64 / 1000.0);
        e.sample(&format!("{name}_count"), &labels, d.count as f64);
    }
    fleet(&mut e, c);
    e.finish()
}

/// A gauge family over the newest points: one sample per point `value` gives a value for.
fn gauge(
    e: &mut Exposition,
    c: &ClusterScrape,
    host: bool,
    (name, help): (&str, &str),
    value: impl Fn(&control::store::metrics::PointRow) -> Option<f64>,
) {
    e.family(name, "gauge", help);
    for p in c.latest.iter().filter(|p| p.service.is_empty() == host) {
        let Some(v) = value(&p.point) else { continue };
        let mut labels = vec![
            ("cluster", c.cluster.as_str()),
            ("instance", p.instance.as_str()),
        ];
        if !host {
            labels.push(("service", p.service.as_str()));
        }
        e.sample(name, &labels, v);
    }
}

fn fleet(e: &mut Exposition, c: &ClusterScrape) {
    let f = |v: Option<i64>| v.map(|v| v as f64);
    let ratio = |v: Option<i64>| v.map(|v| v as f64 / 10_000.0);
    let per_sec = |v: Option<i64>| v.map(|v| v as f64 * 1000.0 / RAW_STEP_MS as f64);
    gauge(
        e,
        c,
        true,
        ("dployr_host_cpu_ratio", "Host CPU busy, 1 = every core."),
        |p| ratio(p.cpu_centi_pct),
    );
    gauge(
        e,
        c,
        true,
        ("dployr_host_load1", "Host 1-minute load average."),
        |p| p.load1_centi.map(|v| v as f64 / 100.0),
    );
    gauge(
        e,
        c,
        true,
        ("dployr_host_memory_used_bytes", "Host memory in use."),
        |p| f(p.mem_bytes),
    );
    gauge(
        e,
        c,
        true,
        ("dployr_host_memory_total_bytes", "Host memory."),
        |p| f(p.mem_total_bytes),
    );
    gauge(
        e,
        c,
        true,
        (
            "dployr_host_disk_used_bytes",
            "Used bytes of dployrd's data filesystem.",
        ),
        |p| f(p.disk_used_bytes),
    );
    gauge(
        e,
        c,
        true,
        (
            "dployr_host_disk_total_bytes",
            "Size of dployrd's data filesystem.",
        ),
        |p| f(p.disk_total_bytes),
    );
    gauge(
        e,
        c,
        false,
        (
            "dployr_service_cpu_ratio",
            "Service CPU, 1 = one core busy.",
        ),
        |p| ratio(p.cpu_centi_pct),
    );
    gauge(
        e,
        c,
        false,
        ("dployr_service_memory_bytes", "Service resident memory."),
        |p| f(p.mem_bytes),
    );
    gauge(
        e,
        c,
        false,
        (
            "dployr_service_restarts",
            "Service restarts since its dployrd started supervising it.",
        ),
        |p| f(p.restarts),
    );
    gauge(
        e,
        c,
        false,
        (
            "dployr_service_requests_per_second",
            "Requests through the ingress, over the newest 10 s.",
        ),
        |p| per_sec(p.req_count),
    );
    gauge(
        e,
        c,
        false,
        (
            "dployr_service_received_bytes_per_second",
            "Request body bytes from clients, over the newest 10 s.",
        ),
        |p| per_sec(p.req_bytes_in),
    );
    gauge(
        e,
        c,
        false,
        (
            "dployr_service_sent_bytes_per_second",
            "Response body bytes to clients, over the newest 10 s.",
        ),
        |p| per_sec(p.req_bytes_out),
    );

    let name = "dployr_service_responses_per_second";
    e.family(
        name,
        "gauge",
        "Responses through the ingress by status class, over the newest 10 s.",
    );
    let name_q = "dployr_service_request_latency_seconds";
    let mut latency = Vec::new();
    for p in c.latest.iter().filter(|p| !p.service.is_empty()) {
        let base = [
            ("cluster", c.cluster.as_str()),
            ("instance", p.instance.as_str()),
            ("service", p.service.as_str()),
        ];
        let r = &p.point;
        for (class, v) in [
            ("2xx", r.req_2xx),
            ("3xx", r.req_3xx),
            ("4xx", r.req_4xx),
            ("5xx", r.req_5xx),
        ] {
            let Some(v) = per_sec(v) else { continue };
            let labels = [base[0], base[1], base[2], ("class", class)];
            e.sample(name, &labels, v);
        }
        for (q, v) in [
            ("0.5", r.req_p50_us),
            ("0.95", r.req_p95_us),
            ("0.99", r.req_p99_us),
        ] {
            if let Some(us) = v {
                latency.push((base, q, us as f64 / 1e6));
            }
        }
    }
    e.family(
        name_q,
        "gauge",
        "Ingress latency to the response head, percentiles of the newest 10 s.",
    );
    for (base, q, v) in latency {
        e.sample(name_q, &[base[0], base[1], base[2], ("quantile", q)], v);
    }
}
