//! `Idempotency-Key` on `POST /api/v1/services/{id}/deployments`: a retry answers with the first
//! deployment, a different request with the same key is refused, keys are per caller.

use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, git_service};

async fn service(app: &TestApp) -> (String, String) {
    let cluster = app.ana_cluster().await;
    let ins = app.instance(&cluster, "web-1").await;
    let svc = app
        .create_service(&cluster, &git_service("api", &ins))
        .await;
    (cluster, svc.id)
}

async fn deployment_count(app: &TestApp, svc: &str) -> usize {
    let list: Value = app
        .get(&format!("/api/v1/services/{svc}/deployments"))
        .fetch()
        .await;
    list["deployments"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_deploy_with_the_same_key_answers_with_the_first_deployment() {
    let app = TestApp::start().await;
    let (cluster, svc) = service(&app).await;
    let url = format!("/api/v1/services/{svc}/deployments");

    let first = app
        .post(&url)
        .header("Idempotency-Key", "ci-run-42")
        .json(&json!({"ref": "main"}))
        .sent()
        .await;
    assert_eq!(first.status(), 202);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let again = app
        .post(&url)
        .header("Idempotency-Key", "ci-run-42")
        .json(&json!({"ref": "main"}))
        .sent()
        .await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(deployment_count(&app, &svc).await, 1);

    // The same key for another request is a client bug, not a retry.
    assert_eq!(
        app.post(&url)
            .header("Idempotency-Key", "ci-run-42")
            .json(&json!({"ref": "v2"}))
            .refused_with("code")
            .await,
        (422, json!("idempotency_key_reused"))
    );

    // A new key deploys again; so does the old key from another caller (an API token).
    let fresh = app
        .post(&url)
        .header("Idempotency-Key", "ci-run-43")
        .sent()
        .await;
    assert_eq!(fresh.status(), 202);
    let made: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/tokens"))
        .json(&json!({"name": "ci", "role": "admin"}))
        .fetch()
        .await;
    let by_token = reqwest::Client::new()
        .post(format!("{}{url}", app.url))
        .bearer_auth(made["token"].as_str().unwrap())
        .header("Idempotency-Key", "ci-run-42")
        .json(&json!({"ref": "main"}))
        .sent()
        .await;
    assert_eq!(by_token.status(), 202);
    assert!(by_token.headers().get("idempotent-replayed").is_none());
    assert_eq!(deployment_count(&app, &svc).await, 3);
}

#[tokio::test]
async fn idempotency_keys_must_be_short_and_printable() {
    let app = TestApp::start().await;
    let (_, svc) = service(&app).await;
    let url = format!("/api/v1/services/{svc}/deployments");
    for bad in ["k".repeat(256), "tab\there".to_string(), String::new()] {
        assert_eq!(
            app.post(&url)
                .header("Idempotency-Key", bad.as_str())
                .refused_with("field")
                .await,
            (400, json!("Idempotency-Key")),
            "{bad:?}"
        );
    }
    let ok = app
        .post(&url)
        .header("Idempotency-Key", "k".repeat(255))
        .sent()
        .await;
    assert_eq!(ok.status(), 202);
    assert_eq!(deployment_count(&app, &svc).await, 1);
}
