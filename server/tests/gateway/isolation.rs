//! Services on one instance cannot reach each other or dployrd (security audit H1, M3): a real
//! Base, a real dployrd running as root (the test machine's), two real Node services. Service A's
//! start command is code a Member could have put there (a start command, an env var); it tries
//! service B's kept releases (with B's secrets), B's process environment and dployrd's key.

use std::time::{Duration, Instant};

use agent::state::DataDir;
use proto::api::{CreateDeploymentRequest, SetEnvRequest};
use proto::deploy::DeployState;

use crate::agent_restart::{answer, dployrd};
use crate::commands::Gateway;
use crate::deploy::{Deployer, files, git_source, node_app};
use testkit::Repo;

const SECRET: &str = "canary-b-secret-61f0c2";

/// Each path in `$PROBE` (`:`-separated): `probe ok <path>` or `probe refused <path>: <why>`;
/// then the uid and whether the service's HOME is writable.
const PROBE: &str = r#"IFS=:; for f in $PROBE; do
  if out=$(cat "$f" 2>&1 >/dev/null); then echo "probe ok $f"; else echo "probe refused $f: $out"; fi
done
echo "probe uid $(id -u)"
touch "$HOME/x" && echo "probe home writable""#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m3_a_service_cannot_read_another_services_secrets_or_the_agent_key() {
    let d = Deployer::start().await;
    let b_repo = Repo::new();
    b_repo.commit(&files(&node_app("b")), "b");
    let b = d
        .service("b", git_source(&b_repo), serde_json::json!({}))
        .await;
    let secret = SetEnvRequest {
        value: SECRET.into(),
        secret: true,
    };
    d.gw.base
        .set_env(&d.gw.owner, &b, "API_TOKEN", secret)
        .await
        .unwrap();
    let dep = d.deploy(&b).await;
    d.live(&dep).await;
    let data = d.agent.data.path();
    let b_dir = data.join("services").join(&b);
    let b_release = b_dir.join("releases").join(&dep);
    let b_pid = *testkit::processes_under(&b_release)
        .first()
        .expect("b's process runs in its release");
    let b_environ = format!("/proc/{b_pid}/environ");
    assert!(
        std::fs::read(&b_environ)
            .unwrap()
            .windows(SECRET.len())
            .any(|w| w == SECRET.as_bytes()),
        "b's process has its secret (root can see it)"
    );

    let mut a_files = node_app("a");
    a_files.push(("probe.sh", PROBE.into()));
    let a_repo = Repo::new();
    a_repo.commit(&files(&a_files), "a");
    let probe = [
        b_dir.join("releases.json").display().to_string(),
        b_environ.clone(),
        data.join("agent-key.der").display().to_string(),
        "../../releases.json".into(),
        b_release.join("server.js").display().to_string(),
        "package.json".into(),
        "/proc/self/environ".into(),
    ]
    .join(":");
    let extra = serde_json::json!({
        "start_command": "sh probe.sh && node server.js",
        "env": {"PROBE": probe},
    });
    let a = d.service("a", git_source(&a_repo), extra).await;
    // Twice: A's own releases.json (its secrets, at `../../releases.json` from its release)
    // is written once its first release is live.
    for _ in 0..2 {
        let dep = d.deploy(&a).await;
        d.live(&dep).await;
    }
    let logs = d.log_text(&a).await;
    let refused = |path: &str| format!("probe refused {path}: cat: {path}: Permission denied");
    for path in [
        b_dir.join("releases.json").display().to_string(),
        b_environ,
        data.join("agent-key.der").display().to_string(),
        "../../releases.json".into(),
        b_release.join("server.js").display().to_string(),
    ] {
        assert!(
            logs.contains(&refused(&path)),
            "{path} not refused:\n{logs}"
        );
    }
    assert!(logs.contains("probe ok package.json"), "{logs}");
    assert!(logs.contains("probe ok /proc/self/environ"), "{logs}");
    assert!(logs.contains("probe home writable"), "{logs}");
    assert!(!logs.contains("probe uid 0\n"), "a runs as root:\n{logs}");
    assert!(!logs.contains(SECRET));
}

/// A dployrd on `data`, killed with the test.
struct Dployrd(std::process::Child);

impl Dployrd {
    fn start(data: &std::path::Path) -> Dployrd {
        let child = std::process::Command::new(dployrd())
            .arg("--data-dir")
            .arg(data)
            .args(["run", "--ingress-listen", "127.0.0.1:0"])
            .args(["--ingress-domain", "test"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Dployrd(child)
    }
}

impl Drop for Dployrd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The uid each process running in `dir` runs as (from `/proc/<pid>/status`).
fn uids_under(dir: &std::path::Path) -> Vec<u32> {
    testkit::processes_under(dir)
        .into_iter()
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .collect()
}

/// Waits until a process not in `seen` runs in `dir`; the new processes and their uids.
async fn new_in(dir: &std::path::Path, seen: &[u32], what: &str) -> (Vec<u32>, Vec<u32>) {
    let start = Instant::now();
    loop {
        let pids: Vec<u32> = testkit::processes_under(dir)
            .into_iter()
            .filter(|p| !seen.contains(p))
            .collect();
        if !pids.is_empty() {
            let uids = uids_under(dir);
            return (pids, uids);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: nothing new runs in the release"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A kept release does not save its user in `releases.json`: a restore by a new dployrd, and
/// the supervisor's restart of the restored process, must still not run it as root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h1_a_restored_release_and_its_restarts_run_as_the_services_user() {
    let gw = Gateway::start().await;
    let invite = gw.invite("web-1").await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().to_path_buf());
    agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
        .await
        .unwrap();
    let child = Dployrd::start(dir.path());
    gw.wait_online(&invite.instance_id, true).await;
    let repo = Repo::new();
    repo.commit(&files(&node_app("v1")), "v1");
    let svc = gw
        .service(serde_json::json!({
            "name": "web",
            "instance_id": invite.instance_id,
            "source": {"git": {"url": repo.url()}},
            "restart": "always",
        }))
        .await;
    let dep = gw
        .base
        .create_deployment(&gw.owner, &svc, CreateDeploymentRequest::default(), None)
        .await
        .and_then(control::idempotency::Queued::into_deployment)
        .unwrap()
        .id;
    let start_wait = Instant::now();
    loop {
        let d = gw.base.get_deployment(&gw.owner, &dep).await.unwrap();
        if !d.state.in_progress() {
            assert_eq!(d.state, DeployState::Live, "{:?}", d.reason);
            break;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(120),
            "{dep} stuck"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let release = dir
        .path()
        .join("services")
        .join(&svc)
        .join("releases")
        .join(&dep);
    let (old, first) = new_in(&release, &[], "deployed").await;
    assert!(
        first.iter().all(|&uid| uid != 0),
        "deployed as root: {first:?}"
    );

    // A new dployrd restores the release (and then stops the one the old dployrd left).
    drop(child);
    let _child = Dployrd::start(dir.path());
    let (_, uids) = new_in(&release, &old, "restored").await;
    assert!(
        uids.iter().all(|&uid| uid != 0),
        "restored as root: {uids:?}"
    );
    assert_eq!(uids.first(), first.first(), "the same user as the deploy's");

    // Once the restored release serves (and the old process is stopped), it dies: the
    // supervisor starts it again.
    let start_wait = Instant::now();
    loop {
        let ingress = std::fs::read_to_string(dir.path().join("ingress.addr")).unwrap();
        let only_new = testkit::processes_under(&release)
            .iter()
            .all(|p| !old.contains(p));
        if only_new && answer(&ingress, "web.test").await.as_deref() == Some("v1") {
            break;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(60),
            "not restored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let restored = testkit::processes_under(&release);
    let pids: Vec<String> = restored.iter().map(u32::to_string).collect();
    let killed = std::process::Command::new("kill")
        .arg("-KILL")
        .args(&pids)
        .status()
        .unwrap();
    assert!(killed.success());
    let seen: Vec<u32> = old.iter().chain(&restored).copied().collect();
    let (_, again) = new_in(&release, &seen, "restarted").await;
    assert!(
        again.iter().all(|&uid| uid != 0),
        "restarted as root: {again:?}"
    );
    crate::kill_processes_under(dir.path());
}
