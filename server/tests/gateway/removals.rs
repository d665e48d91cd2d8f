//! Deletes are never lost (audit finding M7): a service deleted while its instance's dployrd is
//! down is removed when that dployrd comes back (its process stopped, its route and its files
//! gone), and Base forgets the pending removal only once the agent confirmed it.

use std::time::Duration;

use agent::state::DataDir;
use proto::api::CreateDeploymentRequest;
use proto::deploy::DeployState;

use crate::agent_restart::{answer, app, start};
use crate::commands::Gateway;
use crate::eventually;
use testkit::Repo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m7_a_service_deleted_while_its_instance_is_offline_is_removed_on_reconnect() {
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
    let id = gw
        .base
        .create_deployment(&gw.owner, &svc, CreateDeploymentRequest::default(), None)
        .await
        .and_then(control::idempotency::Queued::into_deployment)
        .unwrap()
        .id;
    let (base, owner) = (gw.base.clone(), gw.owner.clone());
    eventually(Duration::from_secs(120), "v1 live", || {
        let (base, owner, id) = (base.clone(), owner.clone(), id.clone());
        async move {
            let d = base.get_deployment(&owner, &id).await.unwrap();
            assert!(d.state != DeployState::Failed, "{:?}", d.reason);
            d.state == DeployState::Live
        }
    })
    .await;
    let ingress = std::fs::read_to_string(dir.path().join("ingress.addr")).unwrap();
    assert_eq!(answer(&ingress, "web.test").await.as_deref(), Some("v1"));
    let service_dir = dir.path().join("services").join(&svc);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(service_dir.join("releases.json")).unwrap()).unwrap();
    let port = saved["port"].as_u64().unwrap();

    // dployrd is down (its service keeps running) when the service is deleted.
    child.kill().unwrap();
    child.wait().unwrap();
    gw.wait_online(&invite.instance_id, false).await;
    gw.base.delete_service(&gw.owner, &svc).await.unwrap();
    let pending = gw.base.pending_removals(&invite.instance_id).await.unwrap();
    assert_eq!(pending, 1, "the removal is kept until the agent confirms");

    let mut child = start(dir.path());
    gw.wait_online(&invite.instance_id, true).await;
    eventually(
        Duration::from_secs(30),
        "the deleted service removed",
        || {
            let (base, instance) = (gw.base.clone(), invite.instance_id.clone());
            let gone = !service_dir.exists();
            async move { gone && base.pending_removals(&instance).await.unwrap() == 0 }
        },
    )
    .await;
    let ingress = std::fs::read_to_string(dir.path().join("ingress.addr")).unwrap();
    assert_ne!(answer(&ingress, "web.test").await.as_deref(), Some("v1"));
    eventually(
        Duration::from_secs(10),
        "its process stopped",
        || async move {
            answer(&format!("127.0.0.1:{port}"), "web.test")
                .await
                .is_none()
        },
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    crate::kill_processes_under(dir.path());
}
