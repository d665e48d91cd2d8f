//! M1 for consoles: an open console is re-authorized while it runs, so demoting its Admin or
//! switching the instance's console off closes it (code 1008, with the reason) within seconds,
//! on a real Base relaying to a real dployrd's shell.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{Fetch, PASSWORD, link_token, session_cookie};
use crate::tools::{Live, Ws, console, live_service};

/// Waits for the shell to attach and answer, so the console is really open.
async fn attached(ws: &mut Ws) {
    ws.send(Message::Binary(b"echo open-$((40+2))\n".to_vec().into()))
        .await
        .unwrap();
    let mut seen = String::new();
    let until = Instant::now() + Duration::from_secs(10);
    while !seen.contains("open-42") {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => seen.push_str(&String::from_utf8_lossy(&b)),
            Ok(Some(Ok(_))) => {}
            other => panic!("the console did not answer: {other:?}; saw {seen:?}"),
        }
    }
}

/// The close frame Base sends when access ends, which must come within 5 s; shell output
/// before it is skipped.
async fn closed_within_5s(ws: &mut Ws) -> String {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) => panic!("the console is still open 5 s later"),
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                assert_eq!(frame.code, CloseCode::Policy);
                return frame.reason.to_string();
            }
            Ok(Some(Ok(Message::Close(None)))) | Ok(None) | Ok(Some(Err(_))) => {
                panic!("the console closed without saying why")
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Invites `email` as Admin and accepts with a new account: its user id and session cookie.
async fn admin(l: &Live, email: &str) -> (String, String) {
    let inv: Value = l
        .app
        .post(&format!("/api/v1/clusters/{}/invites", l.cluster))
        .json(&json!({ "email": email, "role": "admin" }))
        .fetch()
        .await;
    let token = link_token(inv["invite_url"].as_str().unwrap());
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/invites/{token}/accept", l.app.url))
        .header("Origin", &l.app.origin)
        .json(&json!({ "email": email, "password": PASSWORD, "name": "Adam" }))
        .sent()
        .await;
    assert_eq!(r.status(), 201);
    let cookie = session_cookie(&r);
    let body: Value = r.json().await.unwrap();
    (body["user"]["id"].as_str().unwrap().to_string(), cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m1_demoted_admin_loses_the_open_console() {
    let l = live_service().await;
    let (adam, cookie) = admin(&l, "adam@example.com").await;
    let path = format!("/services/{}/console", l.service);
    let mut ws = console(&l, &cookie, &path, "demote-test-01")
        .await
        .expect("an Admin opens a console");
    attached(&mut ws).await;

    let r = l
        .app
        .patch(&format!("/api/v1/clusters/{}/members/{adam}", l.cluster))
        .json(&json!({ "role": "guest" }))
        .sent()
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let reason = closed_within_5s(&mut ws).await;
    assert!(reason.contains("not allowed"), "{reason}");
    // And the lingering shell cannot be taken back.
    assert_eq!(
        console(&l, &cookie, &path, "demote-test-01").await.err(),
        Some(403)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m1_console_disabled_closes_open_consoles() {
    let l = live_service().await;
    let on_service = format!("/services/{}/console", l.service);
    let on_instance = format!("/instances/{}/console", l.instance);
    let mut a = console(&l, &l.cookie, &on_service, "switch-test-01")
        .await
        .expect("the Owner opens a service console");
    let mut b = console(&l, &l.cookie, &on_instance, "switch-test-02")
        .await
        .expect("and one on the instance");
    attached(&mut a).await;
    attached(&mut b).await;

    let r = l
        .app
        .patch(&format!("/api/v1/instances/{}", l.instance))
        .json(&json!({ "console_enabled": false }))
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    for ws in [&mut a, &mut b] {
        let reason = closed_within_5s(ws).await;
        assert!(reason.contains("switched off"), "{reason}");
    }
}
