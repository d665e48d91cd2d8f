//! The dashboard's live views of services (`/api/v1/clusters/{id}/services/live`) and of one
//! service with its deployments (`/api/v1/services/{id}/live`): refused before the upgrade for
//! signed-out visitors, non-members and other origins, and a fresh snapshot pushed after every change.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{TestApp, set_cookie};

type Socket = WebSocketStream<TcpStream>;

/// Opens `path` as the browser does (Origin and session cookie).
async fn watch(app: &TestApp, path: &str, cookie: &str) -> Socket {
    let url = format!("{}{path}", app.url.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", app.origin.parse().unwrap());
    req.headers_mut().insert("Cookie", cookie.parse().unwrap());
    let tcp = TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let (socket, _) = tokio_tungstenite::client_async(req, tcp)
        .await
        .expect("upgrade accepted");
    socket
}

/// The next pushed snapshot, waiting at most 10 s.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a push within 10 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The status of a plain WebSocket upgrade request (no socket when refused).
async fn upgrade_status(app: &TestApp, path: &str, cookie: Option<&str>) -> u16 {
    let mut r = reqwest::Client::new()
        .get(format!("{}{path}", app.url))
        .header("Origin", &app.origin)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn ana_with_service(app: &TestApp) -> (String, String, String) {
    let r = app.signup("ana@example.com").await;
    let cookie = set_cookie(&r).split(';').next().unwrap().to_string();
    let ana: Value = r.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap().to_string();
    let made: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/instances"))
        .json(&json!({ "name": "web-1" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let instance = made["instance"]["id"].as_str().unwrap().to_string();
    (cluster, instance, cookie)
}

async fn create_service(app: &TestApp, cluster: &str, instance: &str, name: &str) -> Value {
    let r = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&json!({
            "name": name,
            "instance_id": instance,
            "source": {"git": {"url": "https://example.com/api.git"}}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_signed_out_clients_cannot_watch_services() {
    let app = TestApp::open().await;
    let (cluster, instance, _) = ana_with_service(&app).await;
    let svc = create_service(&app, &cluster, &instance, "api").await;
    let list = format!("/api/v1/clusters/{cluster}/services/live");
    let one = format!("/api/v1/services/{}/live", svc["id"].as_str().unwrap());
    assert_eq!(upgrade_status(&app, &list, None).await, 401);
    assert_eq!(upgrade_status(&app, &one, None).await, 401);
    let eve = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signup", app.url))
        .header("Origin", &app.origin)
        .json(&json!({ "email": "eve@example.com", "password": "correct horse battery", "name": "Eve" }))
        .send()
        .await
        .unwrap();
    let eve = set_cookie(&eve).split(';').next().unwrap().to_string();
    assert_eq!(upgrade_status(&app, &list, Some(&eve)).await, 404);
    assert_eq!(upgrade_status(&app, &one, Some(&eve)).await, 404);

    // Another site's page cannot open it with Ana's cookie (the Origin check covers upgrades).
    let ana = app.login("ana@example.com", crate::support::PASSWORD).await;
    let ana = set_cookie(&ana).split(';').next().unwrap().to_string();
    let cross_site = reqwest::Client::new()
        .get(format!("{}{list}", app.url))
        .header("Origin", "https://evil.example")
        .header("Cookie", &ana)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_list_is_pushed_again_when_a_service_is_created() {
    let app = TestApp::start().await;
    let (cluster, instance, cookie) = ana_with_service(&app).await;
    let mut socket = watch(
        &app,
        &format!("/api/v1/clusters/{cluster}/services/live"),
        &cookie,
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({ "services": [] }));
    create_service(&app, &cluster, &instance, "api").await;
    let pushed = next(&mut socket).await;
    let services = pushed["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{pushed}");
    assert_eq!(services[0]["name"], "api");
    assert_eq!(services[0]["status"], "new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_page_sees_its_deployments_queued_and_cancelled_live() {
    let app = TestApp::start().await;
    let (cluster, instance, cookie) = ana_with_service(&app).await;
    let svc = create_service(&app, &cluster, &instance, "api").await;
    let id = svc["id"].as_str().unwrap();
    let mut socket = watch(&app, &format!("/api/v1/services/{id}/live"), &cookie).await;
    let first = next(&mut socket).await;
    assert_eq!(first["service"]["id"], id);
    assert_eq!(first["deployments"], json!([]));

    let r = app
        .post(&format!("/api/v1/services/{id}/deployments"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let dep: Value = r.json().await.unwrap();
    let dep = dep["deployment"]["id"].as_str().unwrap().to_string();
    // Pushes may coalesce or repeat; wait for the snapshot that shows the change.
    let state_of = |v: &Value| v["deployments"][0]["state"].as_str().map(str::to_owned);
    let mut pushed = next(&mut socket).await;
    while state_of(&pushed).is_none() {
        pushed = next(&mut socket).await;
    }
    assert_eq!(pushed["deployments"][0]["id"], dep.as_str());
    assert_eq!(state_of(&pushed).as_deref(), Some("queued"));
    assert_eq!(pushed["service"]["status"], "deploying");

    let r = app
        .post(&format!("/api/v1/deployments/{dep}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    while state_of(&pushed).as_deref() != Some("cancelled") {
        pushed = next(&mut socket).await;
    }
    assert!(
        pushed["deployments"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("ana@example.com"),
        "{pushed}"
    );

    assert_eq!(
        app.delete(&format!("/api/v1/services/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the socket closes once the service is gone");
}
