//! Notification channels over REST: Admins add, change, test and remove them (each an audit
//! event), Members list them and their deliveries, Guests and outsiders do not; a webhook's
//! signing secret is shown once, and neither it nor a Slack URL comes back in any answer; the
//! test action sends at once and answers what the receiver said.

use axum::Router;
use axum::routing::post;
use reqwest::Client;
use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, ana_and_bo, error_of};

const SLACK: &str = "https://hooks.slack.example/services/T000/B000/very-secret-part";

/// A receiver answering 200 on loopback.
async fn receiver() -> String {
    let app = Router::new().route("/hook", post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

fn bo_req(app: &TestApp, bo: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    Client::new()
        .request(method, format!("{}{path}", app.url))
        .header("Origin", &app.origin)
        .header("Cookie", bo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_channels_and_secrets_never_come_back() {
    let app = TestApp::open().await;
    let (cluster, bo) = ana_and_bo(&app, "member").await;
    let base = format!("/api/v1/clusters/{cluster}/notifications");
    let url = receiver().await;

    let r = app
        .post(&base)
        .json(&json!({ "name": "ops", "kind": "webhook", "url": url,
                       "events": ["deploy.failed", "instance.offline"] }))
        .sent()
        .await;
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    let secret = made["signing_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("nhsec_"), "{secret}");
    let hook = made["channel"]["id"].as_str().unwrap().to_string();
    assert_eq!(made["channel"]["url"], url.as_str());

    let r = app
        .post(&base)
        .json(&json!({ "name": "chat", "kind": "slack", "url": SLACK,
                       "events": ["service.crash_looping"], "disk_pct": 80 }))
        .sent()
        .await;
    assert_eq!(r.status(), 201);
    let text = r.text().await.unwrap();
    assert!(!text.contains("very-secret-part"), "{text}");
    let slack: Value = serde_json::from_str(&text).unwrap();
    assert!(slack["signing_secret"].is_null());
    let slack_id = slack["channel"]["id"].as_str().unwrap().to_string();
    assert_eq!(slack["channel"]["disk_pct"], 80);

    // Bad input is refused with the field.
    for bad in [
        json!({ "name": "x", "kind": "webhook", "url": "ftp://example.com", "events": ["deploy.failed"] }),
        json!({ "name": "x", "kind": "webhook", "url": url, "events": [] }),
        json!({ "name": "x", "kind": "email", "emails": ["not an address"], "events": ["deploy.failed"] }),
        json!({ "name": "x", "kind": "slack", "url": SLACK, "events": ["deploy.failed"], "disk_pct": 101 }),
    ] {
        let (status, _) = error_of(app.post(&base).json(&bad).sent().await).await;
        assert_eq!(status, 400, "{bad}");
    }

    // A Member lists them, without any secret; may not add, change, test or remove.
    let listed = bo_req(&app, &bo, reqwest::Method::GET, &base).sent().await;
    assert_eq!(listed.status(), 200);
    let text = listed.text().await.unwrap();
    assert!(
        !text.contains(&secret) && !text.contains("very-secret-part"),
        "{text}"
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let member_calls = [
        (
            reqwest::Method::POST,
            base.clone(),
            json!({ "name": "mine", "kind": "slack", "url": SLACK, "events": ["deploy.failed"] }),
        ),
        (
            reqwest::Method::PATCH,
            format!("{base}/{hook}"),
            json!({ "name": "mine" }),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/{hook}/test"),
            Value::Null,
        ),
        (
            reqwest::Method::DELETE,
            format!("{base}/{hook}"),
            Value::Null,
        ),
    ];
    for (method, path, body) in member_calls {
        let r = bo_req(&app, &bo, method.clone(), &path)
            .json(&body)
            .sent()
            .await;
        assert_eq!(r.status(), 403, "{method} {path}");
    }

    // The test sends at once and answers what the receiver said; the delivery is listed.
    let tested: Value = app.post(&format!("{base}/{hook}/test")).fetch().await;
    assert_eq!(tested["ok"], true, "{tested}");
    assert_eq!(tested["http_status"], 200);
    let deliveries: Value = bo_req(
        &app,
        &bo,
        reqwest::Method::GET,
        &format!("{base}/{hook}/deliveries"),
    )
    .fetch()
    .await;
    assert_eq!(deliveries[0]["alert"], "test");
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(deliveries[0]["attempts"][0]["http_status"], 200);

    // A changed Slack URL stays write-only; the change is listed.
    let changed: Value = app
        .patch(&format!("{base}/{slack_id}"))
        .json(&json!({ "url": format!("{SLACK}-2"), "events": ["instance.offline"] }))
        .fetch()
        .await;
    assert_eq!(changed["events"], json!(["instance.offline"]));
    assert!(changed.get("url").is_none(), "{changed}");

    let gone = app.delete(&format!("{base}/{slack_id}")).sent().await;
    assert_eq!(gone.status(), 204);
    let (status, _) = error_of(app.delete(&format!("{base}/{slack_id}")).sent().await).await;
    assert_eq!(status, 404);

    // Every change is in the audit log, without the URLs.
    let events: Value = app
        .get(&format!(
            "/api/v1/clusters/{cluster}/events?action=notification."
        ))
        .fetch()
        .await;
    let text = events.to_string();
    assert!(
        !text.contains("very-secret-part") && !text.contains(&secret),
        "{text}"
    );
    let actions: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "notification.delete",
            "notification.update",
            "notification.test",
            "notification.create",
            "notification.create"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_and_outsiders_see_no_channels() {
    let app = TestApp::open().await;
    let (cluster, guest) = ana_and_bo(&app, "guest").await;
    let path = format!("/api/v1/clusters/{cluster}/notifications");
    let r = bo_req(&app, &guest, reqwest::Method::GET, &path)
        .sent()
        .await;
    assert_eq!(r.status(), 403);
    let outsider = app.stranger("cy@example.com", "Cy").await;
    let r = bo_req(&app, &outsider, reqwest::Method::GET, &path)
        .sent()
        .await;
    assert_eq!(r.status(), 404);
}
