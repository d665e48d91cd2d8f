//! M1: streams end when the credential or the access behind them does. A log follow ends (with
//! a last system line) when its session logs out, and a live view closes (code 1008, with the
//! reason) when its API token is revoked, within 5 s and without any other change happening.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{Fetch, PASSWORD, TestApp, git_service, session_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m1_logout_ends_a_log_follow() {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    let instance = app.instance(&cluster, "web-1").await;
    let svc = app
        .create_service(&cluster, &git_service("api", &instance))
        .await;
    let cookie = session_cookie(&app.login("ana@example.com", PASSWORD).await);
    let plain = reqwest::Client::new();
    let mut follow = plain
        .get(format!(
            "{}/api/v1/services/{}/logs?follow=true",
            app.url, svc.id
        ))
        .header("Cookie", &cookie)
        .sent()
        .await;
    assert_eq!(follow.status(), 200);

    let out = plain
        .post(format!("{}/api/v1/auth/logout", app.url))
        .header("Origin", &app.origin)
        .header("Cookie", &cookie)
        .sent()
        .await;
    assert!(out.status().is_success(), "{}", out.status());

    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        let mut body = Vec::new();
        while let Some(chunk) = follow.chunk().await.expect("the body reads") {
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).unwrap()
    })
    .await
    .expect("the follow ends within 5 s of the logout");
    assert!(ended.contains("the log stream ended"), "{ended}");
    assert!(ended.contains("sign in again"), "{ended}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m1_revoked_token_closes_a_live_view() {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    let made: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/tokens"))
        .json(&json!({ "name": "ci", "role": "member" }))
        .fetch()
        .await;
    let token = made["token"].as_str().unwrap();
    let token_id = made["api_token"]["id"].as_str().unwrap();

    let path = format!("/api/v1/clusters/{cluster}/services/live");
    let mut socket = live_view(&app, &path, "Authorization", &format!("Bearer {token}")).await;

    let revoked = app
        .delete(&format!("/api/v1/clusters/{cluster}/tokens/{token_id}"))
        .code()
        .await;
    assert_eq!(revoked, 204);
    let frame = closed_within(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(frame.code, CloseCode::Policy);
    assert!(frame.reason.contains("revoked"), "{}", frame.reason);
}

/// A live view (WebSocket) at `path` opened with the credential `header: value`, after its
/// first snapshot.
pub(crate) async fn live_view(
    app: &TestApp,
    path: &str,
    header: &'static str,
    value: &str,
) -> WebSocketStream<tokio::net::TcpStream> {
    let url = format!("{}{path}", app.url.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(header, value.parse().unwrap());
    req.headers_mut()
        .insert("Origin", app.origin.parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let (mut socket, _) = tokio_tungstenite::client_async(req, tcp)
        .await
        .expect("the credential opens the live view");
    let first = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("a first snapshot");
    assert!(matches!(first, Some(Ok(Message::Text(_)))), "{first:?}");
    socket
}

/// The close frame `socket` ends with, which must come within `limit` and carry a reason.
pub(crate) async fn closed_within(
    socket: &mut WebSocketStream<tokio::net::TcpStream>,
    limit: Duration,
) -> CloseFrame {
    tokio::time::timeout(limit, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => {}
                other => panic!("the view ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the live view closes within {limit:?}"))
    .expect("with a reason")
}
