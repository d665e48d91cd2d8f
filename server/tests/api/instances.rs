//! `/api/v1/…/instances` and who may do what with them.

use serde_json::{Value, json};

use crate::support::{TestApp, ana_and_bo, error_of, set_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_add_and_remove_instances_and_get_a_one_time_install_command() {
    let app = TestApp::start().await;
    let body: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = body["cluster"]["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/clusters/{cluster}/instances"))
        .json(&json!({ "name": "web-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    assert_eq!(made["instance"]["status"], "pending");
    let token = made["join_token"].as_str().unwrap();
    let cmd = made["install_command"].as_str().unwrap();
    assert!(
        cmd.starts_with(&format!(
            "curl -fsSL {}/install.sh | sh -s -- --url wss://127.0.0.1:",
            app.url
        )),
        "{cmd}"
    );
    assert!(
        cmd.contains(&format!("--token {token} --pin sha256:")),
        "{cmd}"
    );

    let dup = app
        .post(&format!("/api/v1/clusters/{cluster}/instances"))
        .json(&json!({ "name": "web-1" }))
        .send()
        .await
        .unwrap();
    let (status, err) = error_of(dup).await;
    assert_eq!((status, err["code"].as_str()), (409, Some("conflict")));

    let list: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/instances"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["instances"].as_array().unwrap().len(), 1);
    assert!(
        !list.to_string().contains(token),
        "the join token is never shown again"
    );

    let id = made["instance"]["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/instances/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let (status, _) = error_of(
        app.delete(&format!("/api/v1/instances/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_guests_see_instances_but_cannot_add_or_remove_them() {
    for role in ["member", "guest"] {
        let app = TestApp::open().await;
        let (cluster, bo) = ana_and_bo(&app, role).await;
        let made: Value = app
            .post(&format!("/api/v1/clusters/{cluster}/instances"))
            .json(&json!({ "name": "web-1" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let list = client
            .get(format!("{}/api/v1/clusters/{cluster}/instances", app.url))
            .header("Cookie", &bo)
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), 200, "{role} may list");
        let add = client
            .post(format!("{}/api/v1/clusters/{cluster}/instances", app.url))
            .header("Origin", &app.origin)
            .header("Cookie", &bo)
            .json(&json!({ "name": "mine" }))
            .send()
            .await
            .unwrap();
        let (status, err) = error_of(add).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (403, Some("forbidden")),
            "{role} may not add"
        );
        let id = made["instance"]["id"].as_str().unwrap();
        let remove = client
            .delete(format!("{}/api/v1/instances/{id}", app.url))
            .header("Origin", &app.origin)
            .header("Cookie", &bo)
            .send()
            .await
            .unwrap();
        assert_eq!(remove.status(), 403, "{role} may not remove");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_signed_out_clients_cannot_watch_instances_live() {
    let app = TestApp::open().await;
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap();
    let upgrade = |cookie: Option<String>| {
        let mut r = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/clusters/{cluster}/instances/live",
                app.url
            ))
            .header("Origin", &app.origin)
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        r.send()
    };
    assert_eq!(upgrade(None).await.unwrap().status(), 401);
    let stranger = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signup", app.url))
        .header("Origin", &app.origin)
        .json(&json!({ "email": "eve@example.com", "password": "correct horse battery", "name": "Eve" }))
        .send()
        .await
        .unwrap();
    let eve = set_cookie(&stranger).split(';').next().unwrap().to_string();
    assert_eq!(upgrade(Some(eve)).await.unwrap().status(), 404);
}
