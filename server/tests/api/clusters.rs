//! `/api/v1/clusters`: create, list, show, rename, and who may see what.

use reqwest::Client;
use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, column, session_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_can_be_created_listed_and_renamed() {
    let app = TestApp::start().await;
    app.signup("ana@example.com").await;
    let r = app
        .post("/api/v1/clusters")
        .json(&json!({ "name": "Staging" }))
        .sent()
        .await;
    assert_eq!(r.status(), 201);
    let staging: Value = r.json().await.unwrap();
    assert_eq!(staging["role"], "owner");
    let id = staging["id"].as_str().unwrap();
    assert!(id.starts_with("cl_"));

    let list: Value = app.get("/api/v1/clusters").fetch().await;
    let names = column(&list["clusters"], "name");
    assert_eq!(names, ["Ana's cluster", "Staging"]);

    assert_eq!(
        app.patch(&format!("/api/v1/clusters/{id}"))
            .json(&json!({ "name": "Staging EU" }))
            .code()
            .await,
        200
    );
    let shown: Value = app.get(&format!("/api/v1/clusters/{id}")).fetch().await;
    assert_eq!(shown["cluster"]["name"], "Staging EU");
    assert_eq!(shown["member_count"], 1);
    let actions = column(&shown["recent_events"], "action");
    assert_eq!(actions, ["cluster.rename", "cluster.create"]);

    assert_eq!(
        app.patch(&format!("/api/v1/clusters/{id}"))
            .json(&json!({ "name": "  " }))
            .refused_with("field")
            .await,
        (400, json!("name"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_peoples_clusters_are_invisible() {
    let app = TestApp::open().await;
    let ana_cluster = app.ana_cluster().await;
    let bo = app.signup("bo@example.com").await;
    let bo_cookie = session_cookie(&bo);
    let bo_client = Client::new();
    assert_eq!(
        bo_client
            .patch(format!("{}/api/v1/clusters/{ana_cluster}", app.url))
            .header("Origin", &app.origin)
            .header("Cookie", &bo_cookie)
            .json(&json!({ "name": "mine now" }))
            .refused_with("code")
            .await,
        (404, json!("not_found"))
    );
    assert_eq!(
        bo_client
            .get(format!("{}/api/v1/clusters/{ana_cluster}", app.url))
            .header("Cookie", &bo_cookie)
            .code()
            .await,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_requests_are_401() {
    let app = TestApp::start().await;
    for path in ["/api/v1/me", "/api/v1/clusters"] {
        assert_eq!(
            app.get(path).refused_with("message").await,
            (401, json!("sign in to continue")),
            "{path}"
        );
    }
    let (status, _) = app
        .post("/api/v1/clusters")
        .json(&json!({"name": "x"}))
        .refused()
        .await;
    assert_eq!(status, 401);
}

/// Deleting a cluster takes its name as confirmation, is the Owner's alone, and takes
/// everything in it along; the `cluster.delete` event outlives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_deletes_a_cluster_and_everything_in_it_goes() {
    let app = TestApp::open().await;
    let (cluster, bo) = crate::support::ana_and_bo(&app, "admin").await;
    let api = json!({ "name": "api", "source": {"git": {"url": "https://example.com/app.git"}} });
    let service = app.service_on_new_instance(&cluster, api).await;
    let r = app
        .put(&format!("/api/v1/services/{service}/env/TOKEN"))
        .json(&json!({ "value": "s3cret", "secret": true }))
        .sent()
        .await;
    assert!(r.status().is_success());
    let token: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/tokens"))
        .json(&json!({ "name": "ci", "role": "owner" }))
        .fetch()
        .await;
    let token = token["token"].as_str().unwrap().to_string();

    // An Admin may not; the Owner must type the name.
    assert_eq!(
        Client::new()
            .delete(format!(
                "{}/api/v1/clusters/{cluster}?confirm=Ana's cluster",
                app.url
            ))
            .header("Origin", &app.origin)
            .header("Cookie", &bo)
            .code()
            .await,
        403
    );
    for confirm in ["", "?confirm=ana's cluster", "?confirm=Staging"] {
        let (status, err) = app
            .delete(&format!("/api/v1/clusters/{cluster}{confirm}"))
            .refused()
            .await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some("confirm")),
            "{confirm}"
        );
        assert!(
            err["message"].as_str().unwrap().contains("Ana's cluster"),
            "{err}"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/services/{service}")).code().await,
        200,
        "a refused delete deletes nothing"
    );

    assert_eq!(
        app.delete(&format!(
            "/api/v1/clusters/{cluster}?confirm=Ana%27s%20cluster"
        ))
        .code()
        .await,
        204
    );
    for path in [
        format!("/api/v1/clusters/{cluster}"),
        format!("/api/v1/services/{service}"),
    ] {
        assert_eq!(app.get(&path).code().await, 404, "{path}");
    }
    assert_eq!(
        Client::new()
            .get(format!("{}/api/v1/clusters", app.url))
            .bearer_auth(&token)
            .code()
            .await,
        401,
        "the cluster's tokens die with it"
    );
    let bo_list: Value = Client::new()
        .get(format!("{}/api/v1/clusters", app.url))
        .header("Cookie", &bo)
        .fetch()
        .await;
    assert!(
        !bo_list.to_string().contains(&cluster),
        "members lose it: {bo_list}"
    );

    let store = control::Store::open(&control::Store::sqlite_url(&app.data_dir))
        .await
        .unwrap();
    for table in [
        "services",
        "instances",
        "service_env",
        "memberships",
        "api_tokens",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap();
        let expected = if table == "memberships" { 1 } else { 0 }; // Bo's own cluster
        assert_eq!(n, expected, "{table}");
    }
    let (cluster_of, target, details): (Option<String>, String, String) = sqlx::query_as(
        "SELECT cluster_id, target, details FROM events WHERE action = 'cluster.delete'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((cluster_of, target.as_str()), (None, cluster.as_str()));
    assert!(details.contains("\"services\":1"), "{details}");
    store.close().await;
}
