//! Metrics end to end: a real dployrd samples a real Node service that keeps a core busy and
//! holds ~100 MB, sends its frames over the tunnel, Base stores them, and the REST API shows
//! the service's CPU and memory and the instance's host figures within 30 s; someone outside
//! the cluster gets a 404.

use std::time::Duration;

use proto::api::MetricSeries;
use serde_json::json;

use crate::support::{Fetch, TestApp};
use crate::{
    RunningAgent, add_instance, base_with_owner, deploy_live, node_service, wait_listed_online,
};

/// Holds 100 MiB it has written to (so it is resident) and burns CPU in 50 ms slices, staying
/// responsive for its health check between them.
const HOG: &str = r#"
const hold = Buffer.alloc(100 * 1024 * 1024, 1);
function burn() { const end = Date.now() + 50; while (Date.now() < end) {} setImmediate(burn); }
burn();
require('http').createServer((q, s) => s.end('holding ' + hold.length)).listen(process.env.PORT, '127.0.0.1');
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_service_shows_its_cpu_and_memory_through_rest_within_30_s() {
    // Open sign-up, so a stranger can sign up to be refused.
    let app = TestApp::open().await;
    let cluster = app.ana_cluster().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    let _agent = RunningAgent::join_and_run_options(&invite, |_| agent::run::RunOptions {
        metrics_interval: Duration::from_secs(2),
        ..RunningAgent::test_options()
    })
    .await;
    wait_listed_online(&app, &cluster, &invite.instance_id).await;
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
