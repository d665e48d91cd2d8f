//! Push-to-deploy webhooks end to end: GitHub's signed pushes deploy their commit once however
//! often they are delivered, GitLab's token and a generic bearer are checked, other branches
//! deploy nothing, a rotation kills the old secret, only Admins see or change the hook (never
//! its secret again), and every delivery is in the audit log.

use control::webhooks::providers::github_signature;
use reqwest::Response;
use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, ana_and_bo, error_of};

const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

/// A git service `api` on branch `main` in `cluster`; returns its id.
async fn service(app: &TestApp, cluster: &str) -> String {
    let spec = json!({
        "name": "api",
        "source": {"git": {"url": "https://example.com/api.git", "branch": "main"}},
        "runtime": "node",
    });
    app.service_on_new_instance(cluster, spec).await
}

/// Ana (Owner) with a service whose hook is on; returns cluster, service and the secret.
async fn with_hook(app: &TestApp) -> (String, String, String) {
    let cluster = app.ana_cluster().await;
    let svc = service(app, &cluster).await;
    let (secret, _) = enable(app, &svc, json!({})).await;
    (cluster, svc, secret)
}

/// Enables or rotates the hook; returns the secret and the whole answer.
async fn enable(app: &TestApp, svc: &str, body: Value) -> (String, Value) {
    let r = app
        .post(&format!("/api/v1/services/{svc}/webhook"))
        .json(&body)
        .sent()
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (secret, created)
}

fn push(branch: &str, after: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": format!("refs/heads/{branch}"),
        "before": "0".repeat(40),
        "after": after,
        "deleted": false,
        "repository": {"full_name": "ana/api"},
        "commits": [{"id": after, "message": "ship it"}],
    }))
    .unwrap()
}

/// A GitHub delivery with no cookie and no Origin, as GitHub sends it; `secret` signs it.
async fn github(
    app: &TestApp,
    svc: &str,
    event: &str,
    delivery: &str,
    body: &[u8],
    secret: Option<&str>,
) -> Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/hooks/github/{svc}", app.url))
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/abc123")
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery);
    if let Some(s) = secret {
        req = req.header("X-Hub-Signature-256", github_signature(s.as_bytes(), body));
    }
    req.body(body.to_vec()).sent().await
}

async fn deployments(app: &TestApp, svc: &str) -> Vec<Value> {
    let list: Value = app
        .get(&format!("/api/v1/services/{svc}/deployments"))
        .fetch()
        .await;
    list["deployments"].as_array().unwrap().clone()
}

/// The cluster's events with `action`, newest first.
async fn events_of(app: &TestApp, cluster: &str, action: &str) -> Vec<Value> {
    let url = format!("/api/v1/clusters/{cluster}/events?action={action}");
    let page: Value = app.get(&url).sent().await.json().await.unwrap();
    page["events"].as_array().unwrap().clone()
}

/// The details of each `webhook.delivery` event, newest first.
async fn deliveries(app: &TestApp, cluster: &str) -> Vec<Value> {
    let details = |e: &Value| e["details"].clone();
    events_of(app, cluster, "webhook.delivery")
        .await
        .iter()
        .map(details)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_github_push_deploys_its_commit_exactly_once() {
    let app = TestApp::start().await;
    let (cluster, svc, secret) = with_hook(&app).await;

    let r = github(
        &app,
        &svc,
        "ping",
        "d-ping",
        b"{\"zen\":\"hi\"}",
        Some(&secret),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "pong"}));

    let body = push("main", SHA);
    let r = github(&app, &svc, "push", "d-1", &body, Some(&secret)).await;
    assert_eq!(r.status(), 202);
    let reply: Value = r.json().await.unwrap();
    assert_eq!(reply["status"], "deployed");
    // GitHub retries a delivery it thinks failed, with the same id: nothing happens again.
    let r = github(&app, &svc, "push", "d-1", &body, Some(&secret)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "duplicate"})
    );

    let deps = deployments(&app, &svc).await;
    assert_eq!(deps.len(), 1, "{deps:?}");
    assert_eq!(deps[0]["git_ref"], SHA);
    assert_eq!(deps[0]["id"], reply["deployment_id"]);
    assert!(deps[0]["created_by"].is_null(), "{:?}", deps[0]);

    let events = deliveries(&app, &cluster).await;
    let outcomes: Vec<&str> = events
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["duplicate", "deployed", "pong"]);
    assert_eq!(events[1]["commit"], SHA);
    assert_eq!(events[1]["branch"], "main");
    assert_eq!(events[1]["delivery"], "d-1");
    let created = events_of(&app, &cluster, "deployment.create").await;
    let e = &created[0];
    assert!(e["actor_id"].is_null(), "{e}");
    assert_eq!(e["ip"], "127.0.0.1");
    let details = &e["details"];
    assert_eq!(
        details["webhook"],
        json!({"provider": "github", "delivery": "d-1"})
    );

    let info: Value = app
        .get(&format!("/api/v1/services/{svc}/webhook"))
        .fetch()
        .await;
    assert_eq!(info["enabled"], true);
    assert_eq!(info["deploys_branch"], "main");
    assert_eq!(info["last_delivery"]["outcome"], "duplicate");
    assert_eq!(
        info["urls"]["github"],
        format!("{}/hooks/github/{svc}", app.url)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_missing_or_unknown_proofs_are_refused_alike_and_deploy_nothing() {
    let app = TestApp::start().await;
    let (cluster, svc, _) = with_hook(&app).await;
    let body = push("main", SHA);

    let wrong = github(&app, &svc, "push", "d-1", &body, Some("whsec_wrong")).await;
    let (status, wrong) = error_of(wrong).await;
    assert_eq!(status, 401);
    let (status, missing) = error_of(github(&app, &svc, "push", "d-2", &body, None).await).await;
    assert_eq!(status, 401);
    // A service that does not exist answers exactly like a bad signature: ids cannot be probed.
    let (status, unknown) =
        error_of(github(&app, "svc_nope", "push", "d-3", &body, Some("whsec_x")).await).await;
    assert_eq!(status, 401);
    assert_eq!(wrong, missing);
    assert_eq!(wrong, unknown);
    // The refused delivery id was not remembered: signed properly later, it would count.
    assert!(deployments(&app, &svc).await.is_empty());

    // Too big for a webhook (1 MiB): refused before it is read.
    let big = vec![b' '; (1 << 20) + 1];
    let r = github(&app, &svc, "push", "d-4", &big, Some("whsec_x")).await;
    assert_eq!(error_of(r).await.0, 413);

    // A hook that was switched off refuses everything too.
    assert_eq!(
        app.delete(&format!("/api/v1/services/{svc}/webhook"))
            .code()
            .await,
        204
    );
    let (status, off) =
        error_of(github(&app, &svc, "push", "d-5", &body, Some("whsec_x")).await).await;
    assert_eq!((status, &off), (401, &wrong));

    let events = deliveries(&app, &cluster).await;
    assert!(
        events.len() >= 3 && events.iter().all(|e| e["outcome"] == "rejected"),
        "{events:?}"
    );
    // A flood of bad deliveries is refused every time but logged at most 10 times a minute.
    for i in 0..15 {
        let r = github(
            &app,
            &svc,
            "push",
            &format!("f-{i}"),
            &body,
            Some("whsec_x"),
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    assert_eq!(deliveries(&app, &cluster).await.len(), 10);
    assert!(deployments(&app, &svc).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_to_other_branches_or_deleting_one_deploy_nothing() {
    let app = TestApp::start().await;
    let (_, svc, secret) = with_hook(&app).await;

    let r = github(&app, &svc, "push", "d-1", &push("dev", SHA), Some(&secret)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "ignored", "reason": "branch dev is not deployed (filter: main)"})
    );
    let deleted = push("main", &"0".repeat(40));
    let r = github(&app, &svc, "push", "d-2", &deleted, Some(&secret)).await;
    let reply: Value = r.json().await.unwrap();
    assert_eq!(reply["status"], "ignored", "{reply}");

    // A filter: only `release` deploys now.
    let (secret, created) = enable(&app, &svc, json!({"branch": "release"})).await;
    assert_eq!(created["webhook"]["branch"], "release");
    let r = github(&app, &svc, "push", "d-3", &push("main", SHA), Some(&secret)).await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "ignored", "reason": "branch main is not deployed (filter: release)"})
    );
    assert!(deployments(&app, &svc).await.is_empty());
    let r = github(
        &app,
        &svc,
        "push",
        "d-4",
        &push("release", SHA),
        Some(&secret),
    )
    .await;
    assert_eq!(r.status(), 202);
    assert_eq!(deployments(&app, &svc).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_tokens_and_generic_bearers_are_checked() {
    let app = TestApp::start().await;
    let (_, svc, secret) = with_hook(&app).await;
    let gitlab = |token: &str, uuid: &str| {
        reqwest::Client::new()
            .post(format!("{}/hooks/gitlab/{svc}", app.url))
            .header("X-Gitlab-Event", "Push Hook")
            .header("X-Gitlab-Token", token)
            .header("X-Gitlab-Event-UUID", uuid)
            .json(&json!({"ref": "refs/heads/main", "checkout_sha": SHA, "after": SHA}))
    };
    let r = gitlab("whsec_nope", "u-1").sent().await;
    assert_eq!(error_of(r).await.0, 401);
    assert!(deployments(&app, &svc).await.is_empty());
    assert_eq!(gitlab(&secret, "u-1").code().await, 202);
    let r = gitlab(&secret, "u-1").sent().await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "duplicate");
    assert_eq!(deployments(&app, &svc).await.len(), 1);

    let generic = |token: &str| {
        reqwest::Client::new()
            .post(format!("{}/hooks/generic/{svc}", app.url))
            .bearer_auth(token)
            .header("X-Delivery-Id", "ci-run-7")
    };
    let r = generic("whsec_nope").sent().await;
    assert_eq!(error_of(r).await.0, 401);
    let other = "9b2cf535f27731c974343645a3985328ce0a4f1b";
    assert_eq!(
        generic(&secret)
            .json(&json!({"ref": "main", "commit": other}))
            .code()
            .await,
        202
    );
    let r = generic(&secret).sent().await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "duplicate");
    let deps = deployments(&app, &svc).await;
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[0]["git_ref"], other);
    // No body and no delivery id: the head of the branch the hook deploys, every time.
    assert_eq!(
        reqwest::Client::new()
            .post(format!("{}/hooks/generic/{svc}", app.url))
            .bearer_auth(&secret)
            .code()
            .await,
        202
    );
    assert_eq!(deployments(&app, &svc).await[0]["git_ref"], "main");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_secret_stops_the_old_one_at_once() {
    let app = TestApp::start().await;
    let (_, svc, old) = with_hook(&app).await;
    let (new, created) = enable(&app, &svc, json!({})).await;
    assert_ne!(old, new);
    assert_eq!(created["urls"], created["webhook"]["urls"]);
    // A big push (GitHub lists every commit): well over the API's 64 KiB, under 1 MiB.
    let mut body: Value = serde_json::from_slice(&push("main", SHA)).unwrap();
    body["commits"] = json!(vec![json!({"id": SHA, "message": "x".repeat(1000)}); 500]);
    let body = serde_json::to_vec(&body).unwrap();
    assert!(body.len() > 400 * 1024, "{}", body.len());
    let r = github(&app, &svc, "push", "d-1", &body, Some(&old)).await;
    assert_eq!(error_of(r).await.0, 401);
    let r = github(&app, &svc, "push", "d-1", &body, Some(&new)).await;
    assert_eq!(r.status(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_manage_the_hook_and_nobody_reads_its_secret_back() {
    for role in ["member", "guest"] {
        let app = TestApp::open().await;
        let (cluster, bo) = ana_and_bo(&app, role).await;
        let svc = service(&app, &cluster).await;
        let (secret, _) = enable(&app, &svc, json!({})).await;
        let as_bo = |req: reqwest::RequestBuilder| req.header("Cookie", &bo);
        let path = format!("/api/v1/services/{svc}/webhook");
        let bo_client = reqwest::Client::new();
        for req in [
            bo_client.get(format!("{}{path}", app.url)),
            bo_client.post(format!("{}{path}", app.url)),
            bo_client.delete(format!("{}{path}", app.url)),
        ] {
            let r = as_bo(req.header("Origin", &app.origin)).sent().await;
            assert_eq!(error_of(r).await.0, 403, "{role}");
        }
        // The hook still works with the same secret: Bo changed nothing.
        let r = github(&app, &svc, "push", "d-1", &push("main", SHA), Some(&secret)).await;
        assert_eq!(r.status(), 202, "{role}");
        let text = app.get(&path).sent().await.text().await.unwrap();
        assert!(
            !text.contains(&secret) && !text.contains("whsec_"),
            "{text}"
        );
        let events = app
            .get(&format!("/api/v1/clusters/{cluster}/events"))
            .fetch_text()
            .await;
        assert!(!events.contains(&secret), "{events}");
    }
}
