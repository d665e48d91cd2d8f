//! The dashboard's live views of services (`/api/v1/clusters/{id}/services/live`) and of one
//! service with its deployments (`/api/v1/services/{id}/live`): refused before the upgrade for
//! signed-out visitors, non-members and other origins, and a fresh snapshot pushed after every
//! change.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Fetch, TestApp, git_service, session_cookie, websocket_upgrade};
use proto::api::{Service, SignupResponse};

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

/// Ana signs up and adds an instance: her cluster, the instance and her session cookie.
async fn ana_with_instance(app: &TestApp) -> (String, String, String) {
    let r = app.signup("ana@example.com").await;
    let cookie = session_cookie(&r);
    let cluster = r.json::<SignupResponse>().await.unwrap().cluster.id;
    let instance = app.instance(&cluster, "web-1").await;
    (cluster, instance, cookie)
}

/// [`ana_with_instance`] with a service `api` on the instance, instead of the instance's id.
async fn ana_with_service(app: &TestApp) -> (String, Service, String) {
    let (cluster, instance, cookie) = ana_with_instance(app).await;
    let svc = app
        .create_service(&cluster, &git_service("api", &instance))
        .await;
    (cluster, svc, cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_signed_out_clients_cannot_watch_services() {
    let app = TestApp::open().await;
    let (cluster, svc, _) = ana_with_service(&app).await;
    let list = format!("/api/v1/clusters/{cluster}/services/live");
    let one = format!("/api/v1/services/{}/live", svc.id);
    assert_eq!(app.upgrade_status(&list, None).await, 401);
    assert_eq!(app.upgrade_status(&one, None).await, 401);
    let eve = app.stranger("eve@example.com", "Eve").await;
    assert_eq!(app.upgrade_status(&list, Some(&eve)).await, 404);
    assert_eq!(app.upgrade_status(&one, Some(&eve)).await, 404);

    // Another site's page cannot open it with Ana's cookie (the Origin check covers upgrades).
    let ana = app.login("ana@example.com", crate::support::PASSWORD).await;
    let ana = session_cookie(&ana);
    let cross_site = websocket_upgrade(reqwest::Client::new().get(format!("{}{list}", app.url)))
        .header("Origin", "https://evil.example")
        .header("Cookie", &ana)
        .sent()
        .await;
    assert_eq!(cross_site.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_list_is_pushed_again_when_a_service_is_created() {
    let app = TestApp::start().await;
    let (cluster, instance, cookie) = ana_with_instance(&app).await;
    let mut socket = watch(
        &app,
        &format!("/api/v1/clusters/{cluster}/services/live"),
        &cookie,
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({ "services": [] }));
    app.create_service(&cluster, &git_service("api", &instance))
        .await;
    let pushed = next(&mut socket).await;
    let services = pushed["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{pushed}");
    assert_eq!(services[0]["name"], "api");
    assert_eq!(services[0]["status"], "new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_page_sees_its_deployments_queued_and_cancelled_live() {
    let app = TestApp::start().await;
    let (_, svc, cookie) = ana_with_service(&app).await;
    let id = &svc.id;
    let mut socket = watch(&app, &format!("/api/v1/services/{id}/live"), &cookie).await;
    let first = next(&mut socket).await;
    assert_eq!(first["service"]["id"], id.as_str());
    assert_eq!(first["deployments"], json!([]));

    let dep = app.deploy(id).await.id;
    // Pushes may coalesce or repeat; wait for the snapshot that shows the change.
    let state_of = |v: &Value| v["deployments"][0]["state"].as_str().map(str::to_owned);
    let mut pushed = next(&mut socket).await;
    while state_of(&pushed).is_none() {
        pushed = next(&mut socket).await;
    }
    assert_eq!(pushed["deployments"][0]["id"], dep.as_str());
    assert_eq!(state_of(&pushed).as_deref(), Some("queued"));
    assert_eq!(pushed["service"]["status"], "deploying");

    assert_eq!(
        app.post(&format!("/api/v1/deployments/{dep}/cancel"))
            .code()
            .await,
        200
    );
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
        app.delete(&format!("/api/v1/services/{id}")).code().await,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l5_a_live_view_is_quiet_while_another_cluster_deploys() {
    let app = TestApp::open().await;
    let (cluster, instance, cookie) = ana_with_instance(&app).await;
    let mut socket = watch(
        &app,
        &format!("/api/v1/clusters/{cluster}/services/live"),
        &cookie,
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({ "services": [] }));

    // Bo, in his own cluster, adds a service, deploys it and cancels the deployment.
    let bo = app.stranger("bo@example.com", "Bo").await;
    let as_bo = |r: reqwest::RequestBuilder| r.header("Cookie", &bo).header("Origin", &app.origin);
    let me: Value = as_bo(reqwest::Client::new().get(format!("{}/api/v1/me", app.url)))
        .fetch()
        .await;
    let theirs = me["clusters"][0]["id"].as_str().unwrap().to_string();
    let plain = reqwest::Client::new();
    let made: Value = as_bo(plain.post(format!("{}/api/v1/clusters/{theirs}/instances", app.url)))
        .json(&json!({ "name": "b-1" }))
        .fetch()
        .await;
    let spec = git_service("b-api", made["instance"]["id"].as_str().unwrap());
    let svc: Value = as_bo(plain.post(format!("{}/api/v1/clusters/{theirs}/services", app.url)))
        .json(&spec)
        .fetch()
        .await;
    let svc = svc["id"].as_str().unwrap();
    let dep: Value = as_bo(plain.post(format!("{}/api/v1/services/{svc}/deployments", app.url)))
        .fetch()
        .await;
    let dep = dep["deployment"]["id"].as_str().unwrap();
    let cancel = format!("{}/api/v1/deployments/{dep}/cancel", app.url);
    assert_eq!(as_bo(plain.post(cancel)).code().await, 200);

    // Then Ana's own cluster changes: that is the next thing her view shows.
    app.create_service(&cluster, &git_service("api", &instance))
        .await;
    let pushed = next(&mut socket).await;
    assert_eq!(
        pushed["services"].as_array().map(Vec::len),
        Some(1),
        "nothing is pushed for another cluster's activity: {pushed}"
    );
}
