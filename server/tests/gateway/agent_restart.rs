//! dployrd killed with SIGKILL in the middle of a deployment: the live release keeps serving
//! (its process is not dployrd's), the new dployrd brings it back behind the ingress, and Base
//! ends the interrupted deployment with a reason instead of leaving it in progress.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agent::state::DataDir;
use proto::api::CreateDeploymentRequest;
use proto::deploy::DeployState;

use crate::commands::Gateway;
use testkit::Repo;

pub(crate) fn dployrd() -> std::path::PathBuf {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_dployr-server")).with_file_name("dployrd");
    assert!(
        bin.exists(),
        "build dployrd first (cargo build -p agent): {}",
        bin.display()
    );
    bin
}

pub(crate) fn start(data: &std::path::Path) -> Child {
    Command::new(dployrd())
        .arg("--data-dir")
        .arg(data)
        .args([
            "run",
            "--ingress-listen",
            "127.0.0.1:0",
            "--ingress-domain",
            "test",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) async fn answer(addr: &str, host: &str) -> Option<String> {
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/"))
        .header("Host", host)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    r.text().await.ok()
}

fn app(version: &str) -> String {
    format!(
        "require('http').createServer((q, s) => s.end('{version}')).listen(process.env.PORT, '127.0.0.1');\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_dployrd_mid_deploy_keeps_v1_serving_and_ends_the_deploy() {
    let gw = Gateway::start().await;
    let invite = gw.invite("web-1").await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().to_path_buf());
    agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
        .await
        .unwrap();
    let mut child = start(dir.path());
    gw.wait_online(&invite.instance_id, true).await;

    let repo = Repo::new();
    let pkg = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;
    repo.commit(&[("package.json", pkg), ("server.js", &app("v1"))], "v1");
    let svc = gw
        .service(serde_json::json!({
            "name": "web",
            "instance_id": invite.instance_id,
            "source": {"git": {"url": repo.url()}},
            "build_command": "true",
        }))
        .await;
    let deploy = |base: control::Base, owner: control::Actor, svc: String| async move {
        base.create_deployment(&owner, &svc, CreateDeploymentRequest::default(), None)
            .await
            .and_then(control::idempotency::Queued::into_deployment)
            .unwrap()
            .id
    };
    let wait = |want: fn(DeployState) -> bool, id: String| {
        let (base, owner) = (gw.base.clone(), gw.owner.clone());
        async move {
            let start = Instant::now();
            loop {
                let d = base.get_deployment(&owner, &id).await.unwrap();
                if want(d.state) {
                    return d;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(120),
                    "{id} stuck at {}",
                    d.state
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let v1 = deploy(gw.base.clone(), gw.owner.clone(), svc.clone()).await;
    assert_eq!(
        wait(|s| !s.in_progress(), v1.clone()).await.state,
        DeployState::Live
    );
    let ingress = std::fs::read_to_string(dir.path().join("ingress.addr")).unwrap();
    assert_eq!(answer(&ingress, "web.test").await.as_deref(), Some("v1"));
    let saved: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("services").join(&svc).join("releases.json")).unwrap(),
    )
    .unwrap();
    let port = saved["port"].as_u64().unwrap();

    // v2 builds slowly; dployrd dies in the middle of it.
    repo.commit(&[("server.js", &app("v2"))], "v2");
    let patch = serde_json::from_value(serde_json::json!({"build_command": "sleep 3"})).unwrap();
    gw.base
        .update_service(&gw.owner, &svc, patch)
        .await
        .unwrap();
    let v2 = deploy(gw.base.clone(), gw.owner.clone(), svc.clone()).await;
    wait(|s| s == DeployState::Building, v2.clone()).await;
    child.kill().unwrap();
    child.wait().unwrap();

    // v1's process is not dployrd's: it still answers on its own port.
    assert_eq!(
        answer(&format!("127.0.0.1:{port}"), "web.test")
            .await
            .as_deref(),
        Some("v1"),
        "v1 kept serving while dployrd was dead"
    );

    let mut child = start(dir.path());
    let ended = wait(|s| !s.in_progress(), v2.clone()).await;
    assert_eq!(ended.state, DeployState::Failed);
    assert!(
        ended
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("restarted mid-deploy"),
        "{:?}",
        ended.reason
    );
    let ingress = std::fs::read_to_string(dir.path().join("ingress.addr")).unwrap();
    let start_wait = Instant::now();
    while answer(&ingress, "web.test").await.as_deref() != Some("v1") {
        assert!(
            start_wait.elapsed() < Duration::from_secs(30),
            "v1 not back behind the ingress"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let svc_now = gw.base.get_service(&gw.owner, &svc).await.unwrap();
    assert_eq!(svc_now.live_deployment_id.as_deref(), Some(v1.as_str()));
    child.kill().unwrap();
    child.wait().unwrap();
    // Its services run in their own process groups and outlive it by design.
    crate::kill_processes_under(dir.path());
}
