//! Alerts end to end: a local HTTP receiver is a cluster's webhook channel; the instance's
//! dployrd stops and exactly one signed `instance.offline` arrives once the grace period has
//! passed, then exactly one `instance.online` when it is back; a service that keeps crashing
//! alerts `service.crash_looping` once, however many times it crashes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::state::DataDir;
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use hmac::{Hmac, Mac};
use proto::api::CreatedChannel;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Fetch, Options, TestApp};
use crate::{
    RunningAgent, add_instance, deploy_live, eventually, node_service, wait_listed_online,
};

/// What the receiver got: each request's signature headers and body.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, String)>>>);

impl Received {
    fn alerts(&self, kind: &str) -> Vec<(HeaderMap, Value)> {
        let all = self.0.lock().unwrap().clone();
        all.into_iter()
            .map(|(h, b)| (h, serde_json::from_str::<Value>(&b).unwrap()))
            .filter(|(_, v)| v["alert"] == kind)
            .collect()
    }
}

/// A webhook receiver on loopback; its URL and what it receives.
async fn receiver() -> (String, Received) {
    let got = Received::default();
    let keep = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                keep.0.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got)
}

/// Recomputes the signature of every request the receiver got, from the secret shown once.
fn assert_signed(got: &Received, secret: &str) {
    for (headers, body) in got.0.lock().unwrap().iter() {
        let ts = headers["x-dployr-timestamp"].to_str().unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.{body}").as_bytes());
        let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(headers["x-dployr-signature"].to_str().unwrap(), want);
        let age = control::clock::now_ms() / 1000 - ts.parse::<i64>().unwrap();
        assert!((0..120).contains(&age), "timestamp {ts} is now-ish");
    }
}

async fn channel(app: &TestApp, cluster: &str, url: &str, events: &[&str]) -> CreatedChannel {
    let body = json!({ "name": "ops", "kind": "webhook", "url": url, "events": events });
    let r = app
        .post(&format!("/api/v1/clusters/{cluster}/notifications"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_dployrd_alerts_offline_once_and_online_once_signed() {
    let app = TestApp::with(Options {
        offline_grace_secs: Some(2),
        ..Options::default()
    })
    .await;
    let cluster = app.ana_cluster().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    // The agent's data outlives each run, so the same instance comes back.
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().to_path_buf());
    agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
        .await
        .expect("join");
    let agent = RunningAgent::run(data.clone(), tempfile::tempdir().unwrap());
    wait_listed_online(&app, &cluster, &invite.instance_id).await;
    let (url, got) = receiver().await;
    let made = channel(
        &app,
        &cluster,
        &url,
        &["instance.offline", "instance.online"],
    )
    .await;
    let secret = made.signing_secret.expect("a webhook's secret, shown once");

    drop(agent);
    eventually(Duration::from_secs(30), "an offline alert", || async {
        !got.alerts("instance.offline").is_empty()
    })
    .await;
    // Several passes of the watch (every second) later, still one.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let offline = got.alerts("instance.offline");
    assert_eq!(offline.len(), 1, "one offline alert per incident");
    assert_eq!(offline[0].1["subject"], invite.instance_id.as_str());
    assert!(got.alerts("instance.online").is_empty());

    let _agent = RunningAgent::run(data.clone(), tempfile::tempdir().unwrap());
    eventually(Duration::from_secs(30), "an online alert", || async {
        !got.alerts("instance.online").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got.alerts("instance.online").len(), 1);
    assert_eq!(got.alerts("instance.offline").len(), 1);
    assert_signed(&got, &secret);

    // The audit log tells the same story, and the channel shows its deliveries.
    let events: Value = app
        .get(&format!(
            "/api/v1/clusters/{cluster}/events?action=instance."
        ))
        .fetch()
        .await;
    let actions: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| *a == "instance.offline" || *a == "instance.online")
        .collect();
    assert_eq!(actions, ["instance.online", "instance.offline"]);
    let deliveries: Value = app
        .get(&format!(
            "/api/v1/clusters/{cluster}/notifications/{}/deliveries",
            made.channel.id
        ))
        .fetch()
        .await;
    let states: Vec<&str> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["delivered", "delivered"]);
    assert_eq!(deliveries[0]["attempts"][0]["http_status"], 200);
}

/// Serves for 3 s, then exits: the deployment goes live, then it crashes again and again.
const CRASHER: &str = r#"
require('http').createServer((q, s) => s.end('up')).listen(process.env.PORT, '127.0.0.1');
setTimeout(() => process.exit(1), 3000);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_service_alerts_once() {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    let _agent = RunningAgent::join_and_run(&invite).await;
    wait_listed_online(&app, &cluster, &invite.instance_id).await;
    let (url, got) = receiver().await;
    let made = channel(&app, &cluster, &url, &["service.crash_looping"]).await;
    let (id, _repo) = node_service(
        &app,
        &cluster,
        &invite.instance_id,
        "crasher",
        CRASHER,
        json!({}),
    )
    .await;
    deploy_live(&app, &id).await;

    let crashes = || async {
        let events: Value = app
            .get(&format!(
                "/api/v1/clusters/{cluster}/events?action=service.crashed&target={id}"
            ))
            .fetch()
            .await;
        events["events"].as_array().unwrap().len()
    };
    eventually(Duration::from_secs(60), "a crash-loop alert", || async {
        !got.alerts("service.crash_looping").is_empty()
    })
    .await;
    // Two more crashes after the alert: still one alert.
    let seen = crashes().await;
    assert!(seen >= 3, "alerted after {seen} crashes");
    eventually(Duration::from_secs(60), "two more crashes", || async {
        crashes().await >= seen + 2
    })
    .await;
    let alerts = got.alerts("service.crash_looping");
    assert_eq!(alerts.len(), 1, "one alert per crash loop");
    assert_eq!(alerts[0].1["subject"], id.as_str());
    assert_eq!(alerts[0].1["resolved"], false);
    assert_signed(&got, made.signing_secret.as_deref().unwrap());
}
