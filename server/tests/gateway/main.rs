//! The agent gateway with real TLS on loopback and real dployrd code: enrollment, going online,
//! every refusal the tunnel owes us, and Base serving other agents throughout.

#[path = "../api/support.rs"]
#[allow(dead_code)]
mod support;

mod agent_restart;
mod bench_deploy;
mod bench_tools;
mod commands;
mod deploy;
mod docker;
mod enroll;
mod explorer;
mod health_live;
mod install;
mod local;
mod logs;
mod monorepo;
mod node_apps;
mod python_apps;
mod refusals;
mod restart;
mod secrets;
mod streams;
mod tools;
mod transfer;
mod traversal;
mod versions;

use std::time::Duration;

use agent::state::{DataDir, parse_pin};
use serde_json::{Value, json};
use support::TestApp;

/// A Base with one signed-up owner; returns the app and the owner's cluster id.
pub async fn base_with_owner() -> (TestApp, String) {
    let app = TestApp::start().await;
    let body: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = body["cluster"]["id"].as_str().unwrap().to_string();
    (app, cluster)
}

/// What "Add instance" hands the operator.
pub struct Invite {
    pub instance_id: String,
    pub token: String,
    pub url: String,
    pub pin: String,
}

pub async fn add_instance(app: &TestApp, cluster: &str, name: &str) -> Invite {
    let r = app
        .post(&format!("/api/v1/clusters/{cluster}/instances"))
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["instance"]["status"], "pending");
    let cmd = body["install_command"].as_str().unwrap().to_string();
    let arg = |flag: &str| {
        cmd.split_whitespace()
            .skip_while(|w| *w != flag)
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(arg("--token"), body["join_token"].as_str().unwrap());
    Invite {
        instance_id: body["instance"]["id"].as_str().unwrap().to_string(),
        token: arg("--token"),
        url: arg("--url"),
        pin: parse_pin(&arg("--pin")).expect("install command carries a sha256 pin"),
    }
}

pub async fn status_of(app: &TestApp, cluster: &str, instance: &str) -> Option<String> {
    let list: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/instances"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == instance)
        .map(|i| i["status"].as_str().unwrap().to_string())
}

/// Polls `check` every 20 ms until it is true or `within` passes; returns how long it took.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A running dployrd (its `run` loop in this process) and the handle to stop it.
pub struct RunningAgent {
    pub data: DataDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl RunningAgent {
    /// Joins with the invite and starts `run`.
    pub async fn join_and_run(invite: &Invite) -> RunningAgent {
        Self::join_and_run_with(invite, agent::docker::DockerHost::default()).await
    }

    /// Joins and runs with docker services going to the engine at `docker`.
    pub async fn join_and_run_with(
        invite: &Invite,
        docker: agent::docker::DockerHost,
    ) -> RunningAgent {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir(dir.path().to_path_buf());
        agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
            .await
            .expect("join");
        Self::run_with(data, dir, docker)
    }

    pub fn run(data: DataDir, dir: tempfile::TempDir) -> RunningAgent {
        Self::run_with(data, dir, agent::docker::DockerHost::default())
    }

    pub fn run_with(
        data: DataDir,
        dir: tempfile::TempDir,
        docker: agent::docker::DockerHost,
    ) -> RunningAgent {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let d = data.clone();
        tokio::spawn(async move {
            let options = agent::run::RunOptions {
                ingress_listen: "127.0.0.1:0".parse().unwrap(),
                ingress_domain: "test".into(),
                stop_services_on_exit: true,
                docker,
                ..Default::default()
            };
            let _ = agent::run::run(d, options, async {
                let _ = rx.await;
            })
            .await;
        });
        RunningAgent {
            data,
            stop: Some(tx),
            _dir: dir,
        }
    }

    pub fn status(&self) -> Option<agent::run::Status> {
        let bytes = std::fs::read(self.data.path().join("status.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // The test's runtime may end before `run` gets to stop its services; they run in
        // their own process groups, so make sure none outlives the test.
        kill_processes_under(self.data.path());
    }
}

/// SIGKILLs every process whose working directory is inside `dir` (services run in their
/// release directories).
pub fn kill_processes_under(dir: &std::path::Path) {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let in_dir =
            std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir));
        if in_dir {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}
