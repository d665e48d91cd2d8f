//! Three `dployr-server` replicas on one PostgreSQL, two real dployrd agents spread across
//! them (one on B, one on C, each told the other replicas' gateways). Through the replicas
//! that do not hold agent 1 (on B): a deploy asked of A goes live, a console opened through C
//! echoes, a file listing through C comes back, a log follow through A streams what the app
//! prints. Then B is SIGKILLed while a second deploy builds: agent 1 is online on A or C
//! within 10 s, the deploy reaches `live` and was built once (counted by the build itself, on
//! the agent's machine), and A's dashboard page and API answered every request throughout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::support::{FreshDb, Replica, share_identity};
use crate::support::Fetch;
use crate::{Invite, RunningAgent, eventually};
use testkit::Repo;

const PKG: &str = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;

/// Prints each request's path (what the log follow waits for) and answers `version`.
fn server_js(version: &str) -> String {
    format!(
        "require('http').createServer((q, s) => {{ console.log('hit ' + q.url); s.end('{version}'); }})\
         .listen(process.env.PORT, '127.0.0.1');\n"
    )
}

struct Cluster {
    client: reqwest::Client,
    jar: Arc<Jar>,
    id: String,
}

impl Cluster {
    async fn sign_up(a: &Replica) -> Cluster {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        let signup: Value = client
            .post(format!("{}/api/v1/auth/signup", a.url))
            .header("Origin", &a.url)
            .json(&json!({ "email": "ana@example.com", "password": "correct horse battery", "name": "Ana" }))
            .fetch()
            .await;
        let id = signup["cluster"]["id"].as_str().unwrap().to_string();
        Cluster { client, jar, id }
    }

    async fn post(&self, via: &Replica, path: &str, body: Value) -> Value {
        self.client
            .post(format!("{}{path}", via.url))
            .header("Origin", &via.url)
            .json(&body)
            .fetch()
            .await
    }

    async fn get(&self, via: &Replica, path: &str) -> Value {
        match self.client.get(format!("{}{path}", via.url)).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        }
    }

    /// A new instance, its agent joined through `via`'s gateway and told `others`' too.
    async fn agent_on(&self, name: &str, via: &Replica, others: [&Replica; 2]) -> RunningAgent {
        let made = self
            .post(
                via,
                &format!("/api/v1/clusters/{}/instances", self.id),
                json!({ "name": name }),
            )
            .await;
        let mut invite = Invite::from_install_command(
            made["instance"]["id"].as_str().unwrap().to_string(),
            made["install_command"].as_str().unwrap(),
        );
        invite.url = via.gateway_url();
        let gateways = others.map(Replica::gateway_url).to_vec();
        RunningAgent::join_and_run_options(&invite, |_| agent::run::RunOptions {
            gateways,
            ..RunningAgent::test_options()
        })
        .await
    }

    /// Asks `via` to deploy the service; the deployment's id.
    async fn deploy(&self, via: &Replica, service: &str) -> String {
        let path = format!("/api/v1/services/{service}/deployments");
        let deployed = self.post(via, &path, json!({})).await;
        deployed["deployment"]["id"].as_str().unwrap().to_string()
    }

    async fn deployment_state(&self, via: &Replica, dep: &str) -> String {
        let got = self.get(via, &format!("/api/v1/deployments/{dep}")).await;
        got["state"].as_str().unwrap_or_default().to_string()
    }
}

/// What the agent's `status.json` says: its link state and the gateway it dials.
fn agent_status(agent: &RunningAgent) -> (String, String) {
    let status: Value = std::fs::read(agent.data.path().join("status.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let field = |k: &str| status[k].as_str().unwrap_or_default().to_string();
    (field("state"), field("url"))
}

async fn ingress_get(agent: &RunningAgent, path: &str) -> String {
    let ingress = std::fs::read_to_string(agent.data.path().join("ingress.addr")).unwrap();
    reqwest::Client::new()
        .get(format!("http://{ingress}{path}"))
        .header("Host", "web.test")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Opens the service's console through `via` and runs `echo`, reading until it shows.
async fn console_echoes(cluster: &Cluster, via: &Replica, service: &str) {
    let url = format!(
        "{}/api/v1/services/{service}/console?session=tab-0123456789&cols=80&rows=24",
        via.url.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    let cookie = cluster.jar.cookies(&via.url.parse().unwrap()).unwrap();
    req.headers_mut().insert("Cookie", cookie);
    req.headers_mut().insert("Origin", via.url.parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(via.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(req, tcp).await.unwrap();
    ws.send(Message::Binary(b"echo dployr-$((40+2))\n".to_vec().into()))
        .await
        .unwrap();
    let mut seen = String::new();
    let until = Instant::now() + Duration::from_secs(15);
    while !seen.contains("dployr-42") {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => seen.push_str(&String::from_utf8_lossy(&b)),
            Ok(Some(Ok(Message::Text(t)))) => {
                assert!(t.contains("Attached"), "console event: {t}")
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("console through the other replica: {other:?}; saw {seen:?}"),
        }
    }
}

/// Follows the service's log through `via`, makes the app print a marker, and reads the
/// follow until the marker arrives.
async fn log_follow_streams(cluster: &Cluster, via: &Replica, service: &str, agent: &RunningAgent) {
    let url = format!(
        "{}/api/v1/services/{service}/logs?follow=true&limit=1",
        via.url
    );
    let mut follow = cluster.client.get(url).send().await.unwrap();
    assert_eq!(follow.status(), 200);
    let marker = "/marker-through-a";
    assert_eq!(ingress_get(agent, marker).await, "v1");
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while !seen.contains(&format!("hit {marker}")) {
            match follow.chunk().await.unwrap() {
                Some(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                None => panic!("the follow ended; saw {seen:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the marker line did not reach the follow through A"));
}

/// Asks A for the cluster's instances every 100 ms until stopped, as the dashboard does: the
/// instances page (rendered on the server, with the data) and the API's list. (answered,
/// failures).
fn probe(
    cluster: &Cluster,
    a: &Replica,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
    let client = cluster.client.clone();
    let page = format!("{}/c/{}/instances", a.url, cluster.id);
    let api = format!("{}/api/v1/clusters/{}/instances", a.url, cluster.id);
    tokio::spawn(async move {
        let (mut answered, mut failures) = (0, Vec::new());
        while !stop.load(Ordering::SeqCst) {
            for url in [&page, &api] {
                let got = client.get(url).timeout(Duration::from_secs(5)).send().await;
                match got {
                    Ok(r) if r.status() == 200 => match r.text().await {
                        Ok(body) if body.contains("web-1") => answered += 1,
                        Ok(_) => failures.push(format!("{url}: no web-1 in the answer")),
                        Err(e) => failures.push(format!("{url}: {e}")),
                    },
                    Ok(r) => failures.push(format!("{url}: status {}", r.status())),
                    Err(e) => failures.push(format!("{url}: {e}")),
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (answered, failures)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_three_serve_agents_on_each_other_and_survive_one_killed_mid_deploy() {
    let db = FreshDb::new().await;
    let dirs = tempfile::tempdir().unwrap();
    let dir = |n: &str| dirs.path().join(n);
    let probe_client = reqwest::Client::new();
    let a = Replica::start(&dir("a"), Some(&db.url), "replica-a");
    a.healthy(&probe_client).await;
    share_identity(&dir("a"), &dir("b"));
    share_identity(&dir("a"), &dir("c"));
    let mut b = Replica::start(&dir("b"), Some(&db.url), "replica-b");
    let c = Replica::start(&dir("c"), Some(&db.url), "replica-c");
    b.healthy(&probe_client).await;
    c.healthy(&probe_client).await;

    let cluster = Cluster::sign_up(&a).await;
    let one = cluster.agent_on("web-1", &b, [&a, &c]).await;
    let _two = cluster.agent_on("web-2", &c, [&a, &b]).await;
    for name in ["web-1", "web-2"] {
        eventually(
            Duration::from_secs(15),
            "online on A, which holds neither",
            || async { a.instance_status(&cluster.client, &cluster.id, name).await == "online" },
        )
        .await;
    }
    let instance = cluster
        .get(&a, &format!("/api/v1/clusters/{}/instances", cluster.id))
        .await["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "web-1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Each build appends its commit's version to a file on the agent's machine: a deploy
    // built twice would show twice.
    let builds = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        // Builds run as the service's own user when the tests run as root.
        std::fs::set_permissions(builds.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let counted = builds.path().join("builds");
    let repo = Repo::new();
    repo.commit(
        &[
            ("package.json", PKG),
            ("server.js", &server_js("v1")),
            ("version", "v1\n"),
        ],
        "v1",
    );
    let build = format!("cat version >> {} && sleep 3", counted.display());
    let svc = cluster
        .post(
            &a,
            &format!("/api/v1/clusters/{}/services", cluster.id),
            json!({"name": "web", "instance_id": instance,
                   "source": {"git": {"url": repo.url()}}, "build_command": build}),
        )
        .await;
    let svc = svc["id"].as_str().unwrap().to_string();

    // A deploy asked of A reaches the agent B holds and goes live.
    let dep = cluster.deploy(&a, &svc).await;
    eventually(
        Duration::from_secs(120),
        "v1 live, seen through A",
        || async { cluster.deployment_state(&a, &dep).await == "live" },
    )
    .await;
    assert_eq!(ingress_get(&one, "/").await, "v1");

    // Streams through the replicas that do not hold the agent.
    console_echoes(&cluster, &c, &svc).await;
    let listing = cluster
        .get(&c, &format!("/api/v1/services/{svc}/files"))
        .await;
    let names: Vec<&str> = listing["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("a listing through C: {listing}"))
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.contains(&"server.js"), "{names:?}");
    log_follow_streams(&cluster, &a, &svc, &one).await;

    // B dies while v2 builds.
    repo.commit(
        &[("server.js", &server_js("v2")), ("version", "v2\n")],
        "v2",
    );
    let stop = Arc::new(AtomicBool::new(false));
    let prober = probe(&cluster, &a, stop.clone());
    let dep = cluster.deploy(&a, &svc).await;
    eventually(Duration::from_secs(60), "v2 building", || async {
        cluster.deployment_state(&a, &dep).await == "building"
    })
    .await;
    assert_eq!(agent_status(&one).1, b.gateway_url(), "agent 1 is on B");
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    let moved = eventually(
        Duration::from_secs(10),
        "agent 1 online on A or C",
        || async {
            let (state, url) = agent_status(&one);
            state == "online" && url != b.gateway_url()
        },
    )
    .await;
    eprintln!("agent 1 reconnected {moved:?} after B was killed");
    eventually(Duration::from_secs(120), "v2 final", || async {
        matches!(
            cluster.deployment_state(&a, &dep).await.as_str(),
            "live" | "failed" | "cancelled" | "timed_out" | "superseded" | "rolled_back"
        )
    })
    .await;
    assert_eq!(cluster.deployment_state(&a, &dep).await, "live");
    assert_eq!(ingress_get(&one, "/").await, "v2");
    assert_eq!(
        std::fs::read_to_string(&counted).unwrap(),
        "v1\nv2\n",
        "each deploy built exactly once"
    );
    stop.store(true, Ordering::SeqCst);
    let (answered, failures) = prober.await.unwrap();
    assert!(failures.is_empty(), "A stopped answering: {failures:?}");
    assert!(answered > 10, "A answered {answered} times");
    // And the streams still reach agent 1 wherever it went.
    console_echoes(&cluster, &c, &svc).await;
}
