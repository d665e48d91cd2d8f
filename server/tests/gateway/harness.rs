//! What the gateway tests (and the benches in `server/benches`) share: a Base with an owner,
//! instances added the operator's way, a dployrd running in this process, and waiting on a
//! condition with a deadline.

use std::time::Duration;

use crate::support::{Fetch, TestApp};
use agent::state::{DataDir, parse_pin};
use proto::api::{Deployment, InstanceStatus};
use proto::deploy::DeployState;
use serde_json::Value;
pub use testkit::kill_processes_under;

/// A Base with one signed-up owner; returns the app and the owner's cluster id.
pub async fn base_with_owner() -> (TestApp, String) {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    (app, cluster)
}

/// What "Add instance" hands the operator.
pub struct Invite {
    pub instance_id: String,
    pub token: String,
    pub url: String,
    pub pin: String,
}

impl Invite {
    /// Takes the install command of the new instance `instance_id` apart, as an operator would.
    pub fn from_install_command(instance_id: String, cmd: &str) -> Invite {
        let arg = |flag: &str| {
            let mut words = cmd.split_whitespace().skip_while(|w| *w != flag);
            words.nth(1).expect("the flag's value").to_string()
        };
        Invite {
            instance_id,
            token: arg("--token"),
            url: arg("--url"),
            pin: parse_pin(&arg("--pin")).expect("install command carries a sha256 pin"),
        }
    }
}

pub async fn add_instance(app: &TestApp, cluster: &str, name: &str) -> Invite {
    let made = app.create_instance(cluster, name).await;
    assert_eq!(made.instance.status, InstanceStatus::Pending);
    let invite = Invite::from_install_command(made.instance.id, &made.install_command);
    assert_eq!(invite.token, made.join_token);
    invite
}

pub async fn status_of(app: &TestApp, cluster: &str, instance: &str) -> Option<String> {
    let list: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/instances"))
        .fetch()
        .await;
    list["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == instance)
        .map(|i| i["status"].as_str().unwrap().to_string())
}

/// Waits until `instance` shows as online in `cluster`'s instance list.
pub async fn wait_listed_online(app: &TestApp, cluster: &str, instance: &str) {
    eventually(Duration::from_secs(10), "instance online", || async {
        status_of(app, cluster, instance).await.as_deref() == Some("online")
    })
    .await;
}

/// A Base with one signed-up owner and a dployrd joined as `name` and online; the app, the
/// owner's cluster, the invite the agent used and the agent.
pub async fn base_with_agent(name: &str) -> (TestApp, String, Invite, RunningAgent) {
    let (app, cluster) = base_with_owner().await;
    let invite = add_instance(&app, &cluster, name).await;
    let agent = RunningAgent::join_and_run(&invite).await;
    wait_listed_online(&app, &cluster, &invite.instance_id).await;
    (app, cluster, invite, agent)
}

/// Creates service `name` on `instance` over REST from a new repository holding `server_js` as a
/// Node app (`npm start` runs it), with `extra` settings; its id and the repository.
pub async fn node_service(
    app: &TestApp,
    cluster: &str,
    instance: &str,
    name: &str,
    server_js: &str,
    extra: Value,
) -> (String, testkit::Repo) {
    let repo = testkit::Repo::new();
    let package =
        format!(r#"{{"name":"{name}","version":"1.0.0","scripts":{{"start":"node server.js"}}}}"#);
    repo.commit(
        &[("package.json", package.as_str()), ("server.js", server_js)],
        "v1",
    );
    let mut spec = serde_json::json!({
        "name": name,
        "instance_id": instance,
        "source": {"git": {"url": repo.url()}},
    });
    for (k, v) in extra.as_object().expect("extra settings are an object") {
        spec[k] = v.clone();
    }
    (app.create_service(cluster, &spec).await.id, repo)
}

/// Deploys `service` over REST and waits until the deployment has ended, which must be live;
/// the deployment's id.
pub async fn deploy_live(app: &TestApp, service: &str) -> String {
    let dep = app.deploy(service).await.id;
    eventually(Duration::from_secs(120), "deployment live", || async {
        let d: Deployment = app.get(&format!("/api/v1/deployments/{dep}")).fetch().await;
        if d.state.in_progress() {
            return false;
        }
        assert_eq!(d.state, DeployState::Live, "{:?}", d.reason);
        true
    })
    .await;
    dep
}

/// Fails naming the first of `lines` that `text` (a deploy log) does not contain.
pub fn assert_lines_in(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
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
        Self::run_options(
            data,
            dir,
            agent::run::RunOptions {
                docker,
                ..Self::test_options()
            },
        )
    }

    /// The options every test agent runs with: ingress on a free loopback port, default hosts
    /// under `test`, services stopped when it stops.
    pub fn test_options() -> agent::run::RunOptions {
        agent::run::RunOptions {
            ingress_listen: "127.0.0.1:0".parse().unwrap(),
            ingress_domain: "test".into(),
            stop_services_on_exit: true,
            ..Default::default()
        }
    }

    /// Joins with the invite and runs with the options `options` makes for its data dir.
    pub async fn join_and_run_options(
        invite: &Invite,
        options: impl FnOnce(&DataDir) -> agent::run::RunOptions,
    ) -> RunningAgent {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir(dir.path().to_path_buf());
        agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
            .await
            .expect("join");
        let options = options(&data);
        Self::run_options(data, dir, options)
    }

    fn run_options(
        data: DataDir,
        dir: tempfile::TempDir,
        options: agent::run::RunOptions,
    ) -> RunningAgent {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let d = data.clone();
        tokio::spawn(async move {
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
