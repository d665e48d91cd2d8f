//! `/api/v1/clusters`: create, list, show, rename, and who may see what.

use reqwest::Client;
use serde_json::{Value, json};

use crate::support::{TestApp, error_of, set_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_can_be_created_listed_and_renamed() {
    let app = TestApp::start().await;
    app.signup("ana@example.com").await;
    let r = app
        .post("/api/v1/clusters")
        .json(&json!({ "name": "Staging" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let staging: Value = r.json().await.unwrap();
    assert_eq!(staging["role"], "owner");
    let id = staging["id"].as_str().unwrap();
    assert!(id.starts_with("cl_"));

    let list: Value = app
        .get("/api/v1/clusters")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ana's cluster", "Staging"]);

    let r = app
        .patch(&format!("/api/v1/clusters/{id}"))
        .json(&json!({ "name": "Staging EU" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let shown: Value = app
        .get(&format!("/api/v1/clusters/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["cluster"]["name"], "Staging EU");
    assert_eq!(shown["member_count"], 1);
    let actions: Vec<&str> = shown["recent_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["cluster.rename", "cluster.create"]);

    let (status, err) = error_of(
        app.patch(&format!("/api/v1/clusters/{id}"))
            .json(&json!({ "name": "  " }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("name")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_peoples_clusters_are_invisible() {
    let app = TestApp::open().await;
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let ana_cluster = ana["cluster"]["id"].as_str().unwrap().to_string();
    let bo = app.signup("bo@example.com").await;
    let bo_cookie = set_cookie(&bo).split(';').next().unwrap().to_string();
    let bo_client = Client::new();
    let r = bo_client
        .patch(format!("{}/api/v1/clusters/{ana_cluster}", app.url))
        .header("Origin", &app.origin)
        .header("Cookie", &bo_cookie)
        .json(&json!({ "name": "mine now" }))
        .send()
        .await
        .unwrap();
    let (status, err) = error_of(r).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let r = bo_client
        .get(format!("{}/api/v1/clusters/{ana_cluster}", app.url))
        .header("Cookie", &bo_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_requests_are_401() {
    let app = TestApp::start().await;
    for path in ["/api/v1/me", "/api/v1/clusters"] {
        let (status, err) = error_of(app.get(path).send().await.unwrap()).await;
        assert_eq!(
            (status, err["message"].as_str()),
            (401, Some("sign in to continue")),
            "{path}"
        );
    }
    let (status, _) = error_of(
        app.post("/api/v1/clusters")
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}
