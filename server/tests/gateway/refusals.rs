//! Everything the gateway must refuse, each while another agent stays online on the same Base.

use std::time::Duration;

use agent::dial;
use agent::state::{DataDir, Enrollment};
use agent::tls::{AgentIdentity, client_config};
use futures_util::{SinkExt, StreamExt};
use proto::wire::{AgentMsg, AgentState, Frame, HostFacts, PROTOCOL_VERSION};
use tokio_tungstenite::tungstenite::Message;

use crate::support::TestApp;
use crate::{
    Invite, RunningAgent, add_instance, base_with_agent, base_with_owner, eventually, status_of,
};

/// A Base with one agent online (the bystander that must stay online).
async fn base_with_bystander() -> (TestApp, String, Invite, RunningAgent) {
    base_with_agent("bystander").await
}

async fn bystander_still_online(
    app: &TestApp,
    cluster: &str,
    invite: &Invite,
    agent: &RunningAgent,
) {
    assert_eq!(
        status_of(app, cluster, &invite.instance_id)
            .await
            .as_deref(),
        Some("online")
    );
    assert_eq!(agent.status().unwrap().state, agent::run::Link::Online);
}

/// Sends one raw WebSocket message from an enrolled identity and expects Base to hang up.
async fn send_raw_and_expect_close(invite: &Invite, identity: &AgentIdentity, msg: Message) {
    let tls = client_config(&invite.pin, Some(identity)).unwrap();
    let mut ws = dial::dial(&invite.url, tls)
        .await
        .expect("TLS and WebSocket handshakes succeed");
    let _ = ws.send(msg).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "Base closed the connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_certificate_is_refused() {
    let (app, cluster, invite, agent) = base_with_bystander().await;
    let tls = client_config(&invite.pin, None).unwrap();
    let result = async {
        let mut ws = dial::dial(&invite.url, tls).await?;
        dial::recv(&mut ws).await
    }
    .await;
    // TLS 1.3 finishes the client's side of the handshake first, so the refusal is the alert
    // Base sends as soon as it reads the upgrade request.
    let err = result.expect_err("Base answers nothing without a client certificate");
    assert!(
        err.to_string()
            .contains("received fatal alert: CertificateRequired"),
        "{err}"
    );
    bystander_still_online(&app, &cluster, &invite, &agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_base_never_enrolled_is_refused() {
    let (app, cluster, invite, agent) = base_with_bystander().await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().into());
    data.save_enrollment(&Enrollment {
        url: invite.url.clone(),
        pin: invite.pin.clone(),
        instance_id: invite.instance_id.clone().into(),
    })
    .unwrap();
    let stranger = RunningAgent::run(data, dir);
    eventually(Duration::from_secs(10), "stranger refused", || async {
        stranger
            .status()
            .and_then(|s| s.last_error)
            .is_some_and(|e| e.contains("not enrolled"))
    })
    .await;
    bystander_still_online(&app, &cluster, &invite, &agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_given_the_wrong_pin_refuses_base() {
    let (app, cluster) = base_with_owner().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "00".repeat(32);
    let err = agent::join::join(
        &DataDir(dir.path().into()),
        &invite.url,
        &invite.token,
        &wrong,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("does not match the pinned"),
        "{err}"
    );
    assert_eq!(
        status_of(&app, &cluster, &invite.instance_id)
            .await
            .as_deref(),
        Some("pending"),
        "token not burnt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_oversize_and_unknown_stream_frames_close_only_that_connection() {
    let (app, cluster, invite, agent) = base_with_bystander().await;
    let identity = AgentIdentity::load_or_create(agent.data.path()).unwrap();
    send_raw_and_expect_close(&invite, &identity, Message::Binary(vec![0xde, 0xad].into())).await;
    send_raw_and_expect_close(&invite, &identity, Message::text("hello?")).await;
    send_raw_and_expect_close(
        &invite,
        &identity,
        Message::Binary(vec![0u8; 2 << 20].into()),
    )
    .await;
    let stray = Frame::data(7, b"who?".to_vec()).unwrap();
    send_raw_and_expect_close(&invite, &identity, Message::Binary(stray.encode().into())).await;
    bystander_still_online(&app, &cluster, &invite, &agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protocol_base_does_not_speak_is_refused_with_the_reason() {
    let (app, cluster, invite, agent) = base_with_bystander().await;
    let identity = AgentIdentity::load_or_create(agent.data.path()).unwrap();
    let tls = client_config(&invite.pin, Some(&identity)).unwrap();
    let hello = AgentMsg::Hello {
        protocol: PROTOCOL_VERSION + 1,
        version: "from the future".into(),
        host: HostFacts::detect(),
        state: AgentState::default(),
    };
    let err = dial::greet(&invite.url, tls, &hello).await.unwrap_err();
    assert!(err.to_string().contains("is not supported"), "{err}");
    bystander_still_online(&app, &cluster, &invite, &agent).await;
}

/// Audit L13: the instance is deleted between Base's lookup of the agent's certificate and the
/// agent's registration. Here the delete is written, uncommitted, before the agent says Hello:
/// Base still reads the instance, then waits for the database to record `last seen`, and the
/// commit lands in that gap. The agent must not stay connected to a Base that no longer has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l13_an_instance_deleted_during_its_handshake_does_not_stay_connected() {
    let (app, cluster) = base_with_owner().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().into());
    agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
        .await
        .unwrap();
    let identity = AgentIdentity::load_or_create(data.path()).unwrap();

    let store = control::Store::open(&control::Store::sqlite_url(&app.data_dir))
        .await
        .unwrap();
    let mut db = store.pool().acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(&invite.instance_id)
        .execute(&mut *db)
        .await
        .unwrap();

    let tls = client_config(&invite.pin, Some(&identity)).unwrap();
    let hello = AgentMsg::Hello {
        protocol: PROTOCOL_VERSION,
        version: "l13".into(),
        host: HostFacts::detect(),
        state: AgentState::default(),
    };
    let url = invite.url.clone();
    let greeting = tokio::spawn(async move { dial::greet(&url, tls, &hello).await });
    // Nothing outside Base shows that it has read the instance and waits for the write lock; a
    // second is ample for that, and the commit must land within Base's 5 s busy timeout.
    tokio::time::sleep(Duration::from_secs(1)).await;
    sqlx::query("COMMIT").execute(&mut *db).await.unwrap();
    let (mut ws, _) = greeting
        .await
        .unwrap()
        .expect("welcomed: Base read the instance before the delete was committed");
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the deleted instance's agent stayed connected"
    );
    assert_eq!(status_of(&app, &cluster, &invite.instance_id).await, None);
}
