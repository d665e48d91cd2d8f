//! The happy path: add an instance, join, go online; remove it and watch it drop.

use std::time::Duration;

use crate::support::Fetch;
use crate::{add_instance, base_with_agent, base_with_owner, eventually, status_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_agent_goes_online_and_removal_drops_it_within_a_second() {
    let (app, cluster, invite, agent) = base_with_agent("web-1").await;
    let list: serde_json::Value = app
        .get(&format!("/api/v1/clusters/{cluster}/instances"))
        .fetch()
        .await;
    let inst = &list["instances"][0];
    assert_eq!(inst["agent_version"], env!("CARGO_PKG_VERSION"));
    assert!(inst["host"]["cpus"].as_u64().unwrap() >= 1, "{inst}");
    assert!(inst["host"]["memory_bytes"].as_u64().unwrap() > 0, "{inst}");

    assert_eq!(
        app.delete(&format!("/api/v1/instances/{}", invite.instance_id))
            .code()
            .await,
        204
    );
    let took = eventually(
        Duration::from_secs(1),
        "agent sees the connection drop",
        || async {
            agent
                .status()
                .is_some_and(|s| s.state != agent::run::Link::Online)
        },
    )
    .await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    eventually(Duration::from_secs(10), "reconnect refused", || async {
        agent
            .status()
            .and_then(|s| s.last_error)
            .is_some_and(|e| e.contains("not enrolled"))
    })
    .await;
    assert_eq!(status_of(&app, &cluster, &invite.instance_id).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_tokens_are_single_use_and_expire() {
    let (app, cluster) = base_with_owner().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    let first = tempfile::tempdir().unwrap();
    agent::join::join(
        &agent::state::DataDir(first.path().into()),
        &invite.url,
        &invite.token,
        &invite.pin,
    )
    .await
    .unwrap();
    let second = tempfile::tempdir().unwrap();
    let reused = agent::join::join(
        &agent::state::DataDir(second.path().into()),
        &invite.url,
        &invite.token,
        &invite.pin,
    )
    .await
    .unwrap_err();
    assert!(
        reused
            .to_string()
            .contains("join token is unknown, used or expired"),
        "{reused}"
    );

    let late = add_instance(&app, &cluster, "web-2").await;
    let store = control::Store::open(&control::Store::sqlite_url(&app.data_dir))
        .await
        .unwrap();
    sqlx::query("UPDATE join_tokens SET expires_at = 0")
        .execute(store.pool())
        .await
        .unwrap();
    let third = tempfile::tempdir().unwrap();
    let expired = agent::join::join(
        &agent::state::DataDir(third.path().into()),
        &late.url,
        &late.token,
        &late.pin,
    )
    .await
    .unwrap_err();
    assert!(expired.to_string().contains("expired"), "{expired}");
    assert_eq!(
        status_of(&app, &cluster, &late.instance_id)
            .await
            .as_deref(),
        Some("pending")
    );
}
