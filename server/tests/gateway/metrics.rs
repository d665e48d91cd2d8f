//! Metrics end to end: a real dployrd samples a real Node service that keeps a core busy and
//! holds ~100 MB, sends its frames over the tunnel, Base stores them, and the REST API shows
//! the service's CPU and memory and the instance's host figures within 30 s; someone outside
//! the cluster gets a 404.

use std::time::Duration;

use proto::api::MetricSeries;
use serde_json::json;

use crate::support::{Fetch, TestApp};
use crate::{
    Invite, RunningAgent, add_instance, base_with_owner, deploy_live, node_service,
    wait_listed_online,
};

/// Holds 100 MiB it has written to (so it is resident) and burns CPU in 50 ms slices, staying
/// responsive for its health check between them.
const HOG: &str = r#"
const hold = Buffer.alloc(100 * 1024 * 1024, 1);
function burn() { const end = Date.now() + 50; while (Date.now() < end) {} setImmediate(burn); }
burn();
require('http').createServer((q, s) => s.end('holding ' + hold.length)).listen(process.env.PORT, '127.0.0.1');
"#;

/// An instance "web-1" in `cluster` whose dployrd reports metrics every 2 s, listed online.
pub(crate) async fn metered_instance(app: &TestApp, cluster: &str) -> (Invite, RunningAgent) {
    let invite = add_instance(app, cluster, "web-1").await;
    let agent = RunningAgent::join_and_run_options(&invite, |_| agent::run::RunOptions {
        metrics_interval: Duration::from_secs(2),
        ..RunningAgent::test_options()
    })
    .await;
    wait_listed_online(app, cluster, &invite.instance_id).await;
    (invite, agent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_service_shows_its_cpu_and_memory_through_rest_within_30_s() {
    // Open sign-up, so a stranger can sign up to be refused.
    let app = TestApp::open().await;
    let cluster = app.ana_cluster().await;
    let (invite, _agent) = metered_instance(&app, &cluster).await;
    let (id, _repo) =
        node_service(&app, &cluster, &invite.instance_id, "hog", HOG, json!({})).await;
    deploy_live(&app, &id).await;

    let path = format!("/api/v1/services/{id}/metrics?since=5m");
    // Polled with a deadline: the frames come every 2 s and the first look at a new process
    // has no CPU rate yet.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let series = loop {
        let series: MetricSeries = app.get(&path).fetch().await;
        let seen = series
            .points
            .iter()
            .any(|p| p.cpu_centi_pct.unwrap_or(0) > 2_000 && p.mem_bytes.unwrap_or(0) > 80 << 20);
        if seen {
            break series;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no point with CPU > 20 % and memory > 80 MiB within 30 s: {series:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(series.step_secs, 10);
    assert!(
        series
            .points
            .iter()
            .all(|p| p.host.is_none() && p.restarts == Some(0))
    );

    // The instance's host figures came in the same frames.
    let host: MetricSeries = app
        .get(&format!("/api/v1/instances/{}/metrics", invite.instance_id))
        .fetch()
        .await;
    let h = host
        .points
        .last()
        .and_then(|p| p.host.clone())
        .expect("a host point");
    assert!(h.mem_total_bytes > 0 && h.disk_total_bytes > 0, "{h:?}");
    assert!(host.points.iter().any(|p| p.cpu_centi_pct.is_some()));

    // Outside the cluster, neither series exists.
    let cookie = app.stranger("eve@example.com", "Eve").await;
    for path in [
        path,
        format!("/api/v1/instances/{}/metrics", invite.instance_id),
    ] {
        let code = reqwest::Client::new()
            .get(format!("{}{path}", app.url))
            .header("Cookie", &cookie)
            .code()
            .await;
        assert_eq!(code, 404, "{path}");
    }
    let bad = app
        .get(&format!("/api/v1/services/{id}/metrics?since=1y"))
        .code()
        .await;
    assert_eq!(bad, 400);
}

/// A dployrd from before metrics (protocol 2) never sends a frame; Base still serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_speaking_the_protocol_before_metrics_is_still_welcomed() {
    let (app, cluster) = base_with_owner().await;
    let invite = add_instance(&app, &cluster, "old-1").await;
    let dir = tempfile::tempdir().unwrap();
    let data = agent::state::DataDir(dir.path().into());
    agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
        .await
        .unwrap();
    let identity = agent::tls::AgentIdentity::load_or_create(data.path()).unwrap();
    let tls = agent::tls::client_config(&invite.pin, Some(&identity)).unwrap();
    let hello = proto::wire::AgentMsg::Hello {
        protocol: 2,
        version: "0.0.2".into(),
        host: proto::wire::HostFacts::detect(),
        state: proto::wire::AgentState::default(),
    };
    let (_ws, _) = agent::dial::greet(&invite.url, tls, &hello)
        .await
        .expect("welcomed");
    wait_listed_online(&app, &cluster, &invite.instance_id).await;
}

/// Answers by path: `/` 200, `/missing` 404, `/boom` 500, `/slow` 200 after 150 ms; echoes
/// nothing, so the bytes out are its fixed answers.
const PATHS: &str = r#"
require('http').createServer((q, s) => {
  q.resume();
  q.on('end', () => {
    if (q.url === '/missing') { s.statusCode = 404; return s.end('no'); }
    if (q.url === '/boom') { s.statusCode = 500; return s.end('boom'); }
    if (q.url === '/slow') { return setTimeout(() => s.end('slow'), 150); }
    s.end('hello');
  });
}).listen(process.env.PORT, '127.0.0.1');
"#;

/// Requests through the ingress show in the service's stored series: counts, status classes,
/// body bytes both ways and latency percentiles that see the slow requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_through_the_ingress_show_in_the_service_series() {
    let (app, cluster) = base_with_owner().await;
    let (invite, agent) = metered_instance(&app, &cluster).await;
    let (id, _repo) = node_service(
        &app,
        &cluster,
        &invite.instance_id,
        "paths",
        PATHS,
        json!({}),
    )
    .await;
    deploy_live(&app, &id).await;

    let ingress = std::fs::read_to_string(agent.data.path().join("ingress.addr")).unwrap();
    let client = reqwest::Client::new();
    // 20 × 200 (each with a 1000-byte body), 3 × 404, 2 × 500, 4 slow 200s.
    let mut sent = Vec::new();
    sent.extend(std::iter::repeat_n(("/", 200), 20));
    sent.extend(std::iter::repeat_n(("/missing", 404), 3));
    sent.extend(std::iter::repeat_n(("/boom", 500), 2));
    sent.extend(std::iter::repeat_n(("/slow", 200), 4));
    for (path, status) in &sent {
        let r = client
            .post(format!("http://{ingress}{path}"))
            .header("Host", "paths.test")
            .body(vec![b'x'; 1000])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), *status, "{path}");
        r.bytes().await.unwrap();
    }

    // The frames come every 2 s and add up in their 10 s slot; the counts are summed over the
    // whole series here, whichever slots they landed in.
    let path = format!("/api/v1/services/{id}/metrics?since=5m");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let total = loop {
        let series: MetricSeries = app.get(&path).fetch().await;
        let mut total = proto::api::RequestPoint::default();
        for r in series.points.iter().filter_map(|p| p.requests.as_ref()) {
            total.count += r.count;
            total.status_2xx += r.status_2xx;
            total.status_4xx += r.status_4xx;
            total.status_5xx += r.status_5xx;
            total.bytes_in += r.bytes_in;
            total.bytes_out += r.bytes_out;
            total.p99_us = total.p99_us.max(r.p99_us);
            total.p50_us = total.p50_us.max(r.p50_us);
            assert!(r.p50_us <= r.p95_us && r.p95_us <= r.p99_us, "{r:?}");
        }
        if total.count >= sent.len() as i64 {
            break total;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all {} requests counted within 30 s: {series:?}",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let statuses = (total.status_2xx, total.status_4xx, total.status_5xx);
    assert_eq!(total.count, 29, "{total:?}");
    assert_eq!(statuses, (24, 3, 2), "{total:?}");
    assert_eq!(total.bytes_in, 29 * 1000, "{total:?}");
    let out = 20 * 5 + 3 * 2 + 2 * 4 + 4 * 4;
    assert_eq!(total.bytes_out, out, "{total:?}");
    // 4 of 29 requests took 150 ms: whichever frame holds one has it as its p99 (the largest
    // of fewer than 100), within the histogram's 1/16.
    let p99 = total.p99_us.expect("a p99");
    assert!((140_000..2_000_000).contains(&p99), "{total:?}");
    assert!(total.p50_us.is_some(), "{total:?}");
}
