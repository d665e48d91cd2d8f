//! SIGKILL the real `dployr-server` binary and start it again on the same ports and data dir:
//! the agent, never restarted, must be online again within 5 seconds.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::Fetch;
use crate::{Invite, RunningAgent, eventually};
use testkit::Repo;
use testkit::free_port;

fn start(data: &std::path::Path, http: u16, gateway: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dployr-server"))
        .args([
            "--listen",
            &format!("127.0.0.1:{http}"),
            "--gateway-listen",
            &format!("127.0.0.1:{gateway}"),
        ])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start dployr-server")
}

/// A real Base on fixed ports with one owner and one instance, and its invite.
struct RealBase {
    /// Behind a lock so the test's helper closures can hold `&RealBase` across a kill.
    child: std::sync::Mutex<Child>,
    dir: tempfile::TempDir,
    http: u16,
    gateway: u16,
    url: String,
    client: reqwest::Client,
    cluster: String,
    invite: Invite,
}

impl RealBase {
    async fn start() -> RealBase {
        let dir = tempfile::tempdir().unwrap();
        let (http, gateway) = (free_port(), free_port());
        let url = format!("http://127.0.0.1:{http}");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let child = start(dir.path(), http, gateway);
        let mut base = RealBase {
            child: std::sync::Mutex::new(child),
            dir,
            http,
            gateway,
            url,
            client,
            cluster: String::new(),
            invite: Invite {
                instance_id: String::new(),
                token: String::new(),
                url: String::new(),
                pin: String::new(),
            },
        };
        base.wait_healthy().await;
        let signup = base
            .post("/api/v1/auth/signup", json!({ "email": "ana@example.com", "password": "correct horse battery", "name": "Ana" }))
            .await;
        base.cluster = signup["cluster"]["id"].as_str().unwrap().to_string();
        let made = base
            .post(
                &format!("/api/v1/clusters/{}/instances", base.cluster),
                json!({ "name": "web-1" }),
            )
            .await;
        base.invite = Invite::from_install_command(
            made["instance"]["id"].as_str().unwrap().to_string(),
            made["install_command"].as_str().unwrap(),
        );
        base
    }

    async fn wait_healthy(&self) {
        eventually(Duration::from_secs(30), "Base healthy", || async {
            self.client
                .get(format!("{}/healthz", self.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.client
            .post(format!("{}{path}", self.url))
            .header("Origin", &self.url)
            .json(&body)
            .fetch()
            .await
    }

    async fn get(&self, path: &str) -> Value {
        match self.client.get(format!("{}{path}", self.url)).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        }
    }

    async fn status(&self) -> String {
        let list = self
            .get(&format!("/api/v1/clusters/{}/instances", self.cluster))
            .await;
        list["instances"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        child.kill().expect("SIGKILL Base");
        child.wait().unwrap();
    }

    fn restart(&self) {
        *self.child.lock().unwrap() = start(self.dir.path(), self.http, self.gateway);
    }
}

impl Drop for RealBase {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_are_back_online_within_5s_after_base_is_killed_and_restarted() {
    let base = RealBase::start().await;
    let agent = RunningAgent::join_and_run(&base.invite).await;
    eventually(
        Duration::from_secs(10),
        "online before the kill",
        || async { base.status().await == "online" },
    )
    .await;

    base.kill();
    eventually(Duration::from_secs(5), "agent notices", || async {
        agent
            .status()
            .is_some_and(|s| s.state != agent::run::Link::Online)
    })
    .await;

    base.restart();
    let restarted = tokio::time::Instant::now();
    base.wait_healthy().await;
    eventually(Duration::from_secs(5), "agent back online", || async {
        base.status().await == "online"
    })
    .await;
    let took = restarted.elapsed();
    assert!(took < Duration::from_secs(5), "back online after {took:?}");
}

/// Base dies while a deployment builds; the agent finishes it alone, the live release keeps
/// serving throughout, and once Base is back the deployment shows its real end (`live`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_base_mid_deploy_ends_with_the_agents_real_outcome() {
    let base = RealBase::start().await;
    let agent = RunningAgent::join_and_run(&base.invite).await;
    eventually(Duration::from_secs(10), "online", || async {
        base.status().await == "online"
    })
    .await;
    let repo = Repo::new();
    let app = |v: &str| {
        format!(
            "require('http').createServer((q, s) => s.end('{v}')).listen(process.env.PORT, '127.0.0.1');\n"
        )
    };
    let pkg = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;
    repo.commit(&[("package.json", pkg), ("server.js", &app("v1"))], "v1");
    let svc = base
        .post(
            &format!("/api/v1/clusters/{}/services", base.cluster),
            json!({"name": "web", "instance_id": base.invite.instance_id,
                   "source": {"git": {"url": repo.url()}}, "build_command": "true"}),
        )
        .await;
    let svc = svc["id"].as_str().unwrap().to_string();
    let state = |dep: String| {
        let base = &base;
        async move {
            base.get(&format!("/api/v1/deployments/{dep}")).await["state"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    let deploy = || async {
        base.post(&format!("/api/v1/services/{svc}/deployments"), json!({}))
            .await["deployment"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let v1 = deploy().await;
    eventually(Duration::from_secs(120), "v1 live", || async {
        state(v1.clone()).await == "live"
    })
    .await;
    let ingress = std::fs::read_to_string(agent.data.path().join("ingress.addr")).unwrap();
    let answer = || async {
        reqwest::Client::new()
            .get(format!("http://{ingress}/"))
            .header("Host", "web.test")
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()
    };
    assert_eq!(answer().await.as_deref(), Some("v1"));

    repo.commit(&[("server.js", &app("v2"))], "v2");
    let patched = base
        .client
        .patch(format!("{}/api/v1/services/{svc}", base.url))
        .header("Origin", &base.url)
        .json(&json!({"build_command": "sleep 3"}))
        .sent()
        .await;
    assert_eq!(patched.status(), 200);
    let v2 = deploy().await;
    eventually(Duration::from_secs(60), "v2 building", || async {
        state(v2.clone()).await == "building"
    })
    .await;
    base.kill();
    // Base is gone: the agent builds on, and v1 serves until v2 is healthy, then v2.
    let gone = tokio::time::Instant::now();
    while gone.elapsed() < Duration::from_secs(2) {
        let a = answer().await;
        assert!(
            matches!(a.as_deref(), Some("v1") | Some("v2")),
            "not serving while Base is away: {a:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eventually(Duration::from_secs(60), "v2 live on the agent", || async {
        answer().await.as_deref() == Some("v2")
    })
    .await;

    base.restart();
    base.wait_healthy().await;
    eventually(
        Duration::from_secs(30),
        "Base learns v2 is live",
        || async { state(v2.clone()).await == "live" },
    )
    .await;
    assert_eq!(state(v1.clone()).await, "superseded");
}
