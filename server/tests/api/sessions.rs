//! Issue 21 over HTTP: a Member's sign-ins and failed attempts show in the events of the
//! clusters they belong to (with address and device) and in no other; a person lists their
//! sessions and signs out one or all the others, which ends those sessions' open live views
//! within seconds and refuses their next request with 401.

use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

use crate::revocation::{closed_within, live_view};
use crate::support::{Fetch, PASSWORD, TestApp, ana_and_bo, session_cookie};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Signs `email` in with `password` from Firefox; the response.
async fn login_from_firefox(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    Client::new()
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("Origin", &app.origin)
        .header("User-Agent", FIREFOX)
        .json(&json!({ "email": email, "password": password }))
        .sent()
        .await
}

/// `GET path` with `cookie`.
fn get_as(app: &TestApp, cookie: &str, path: &str) -> reqwest::RequestBuilder {
    Client::new()
        .get(format!("{}/api/v1{path}", app.url))
        .header("Cookie", cookie)
}

/// The `user.login*` events of `user` in `cluster`, as the holder of `cookie` reads them.
async fn sign_ins(app: &TestApp, cookie: &str, cluster: &str, user: &str) -> Vec<Value> {
    let page: Value = get_as(
        app,
        cookie,
        &format!("/clusters/{cluster}/events?action=user.login*"),
    )
    .fetch()
    .await;
    page["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .filter(|e| e["actor_id"] == user || e["target"] == user)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_sign_ins_show_in_their_clusters_events_only() {
    let app = TestApp::open().await;
    let (cluster, _) = ana_and_bo(&app, "member").await;
    let ana = session_cookie(&app.login("ana@example.com", PASSWORD).await);
    let cy = app.stranger("cy@example.com", "Cy").await;
    let cy_cluster: Value = get_as(&app, &cy, "/clusters").fetch().await;
    let cy_cluster = cy_cluster["clusters"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let signed_in = login_from_firefox(&app, "bo@example.com", PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    let bo = session_cookie(&signed_in);
    let me: Value = get_as(&app, &bo, "/me").fetch().await;
    let bo_id = me["user"]["id"].as_str().unwrap().to_string();
    let failed = login_from_firefox(&app, "bo@example.com", "wrong password here").await;
    assert_eq!(failed.status(), 401);

    let seen = sign_ins(&app, &ana, &cluster, &bo_id).await;
    let actions: Vec<&str> = seen.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.login_failed", "user.login"], "{seen:?}");
    assert_eq!(seen[1]["actor_id"], bo_id.as_str());
    assert_eq!(seen[1]["ip"], "127.0.0.1");
    assert_eq!(seen[1]["details"]["device"], "Firefox 128 on Linux");
    assert_eq!(seen[0]["target"], bo_id.as_str());
    assert_eq!(seen[0]["details"]["email"], "bo@example.com");
    // Bo reads the same in the cluster (a Member reads its events).
    assert_eq!(sign_ins(&app, &bo, &cluster, &bo_id).await.len(), 2);
    // Cy's cluster, which Bo is not in, shows none of it.
    assert!(sign_ins(&app, &cy, &cy_cluster, &bo_id).await.is_empty());

    // Bo's own security log has both; Ana's has neither.
    let own: Value = get_as(&app, &bo, "/account/events").fetch().await;
    let own: Vec<&str> = own["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(&own[..2], ["user.login_failed", "user.login"], "{own:?}");
    let hers: Value = get_as(&app, &ana, "/account/events").fetch().await;
    assert!(
        hers["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "user.login_failed"),
        "{hers}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_everywhere_else_closes_the_other_sessions_live_view() {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    let here = session_cookie(&login_from_firefox(&app, "ana@example.com", PASSWORD).await);
    let there = session_cookie(&app.login("ana@example.com", PASSWORD).await);
    let path = format!("/api/v1/clusters/{cluster}/services/live");
    let mut socket = live_view(&app, &path, "Cookie", &there).await;

    let list: Value = get_as(&app, &here, "/account/sessions").fetch().await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "sign-up and two sign-ins: {list}");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "{list}");
    assert_eq!(current[0]["device"], "Firefox 128 on Linux");
    assert!(current[0]["last_used_at"].is_string(), "{list}");

    let out: Value = Client::new()
        .post(format!("{}/api/v1/account/sessions/revoke-others", app.url))
        .header("Origin", &app.origin)
        .header("Cookie", &here)
        .fetch()
        .await;
    assert_eq!(out["revoked"], 2, "{out}");

    let closed = closed_within(&mut socket, Duration::from_secs(4)).await;
    assert!(closed.reason.contains("sign in again"), "{}", closed.reason);
    assert_eq!(get_as(&app, &there, "/me").code().await, 401);
    assert_eq!(get_as(&app, &here, "/me").code().await, 200);
    let left: Value = get_as(&app, &here, "/account/sessions").fetch().await;
    assert_eq!(left["sessions"].as_array().unwrap().len(), 1, "{left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_signed_out_by_its_id_by_its_owner_only() {
    let app = TestApp::open().await;
    let cluster = app.ana_cluster().await;
    let here = session_cookie(&app.login("ana@example.com", PASSWORD).await);
    let there = session_cookie(&login_from_firefox(&app, "ana@example.com", PASSWORD).await);
    let list: Value = get_as(&app, &here, "/account/sessions").fetch().await;
    let firefox = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["device"] == "Firefox 128 on Linux")
        .unwrap_or_else(|| panic!("{list}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(firefox.starts_with("ses_"), "{firefox}");

    let delete = |cookie: &str| {
        Client::new()
            .delete(format!("{}/api/v1/account/sessions/{firefox}", app.url))
            .header("Origin", &app.origin)
            .header("Cookie", cookie.to_string())
    };
    let bo = app.stranger("bo@example.com", "Bo").await;
    assert_eq!(delete(&bo).code().await, 404, "not Bo's session");
    assert_eq!(get_as(&app, &there, "/me").code().await, 200);
    assert_eq!(delete(&here).code().await, 204);
    assert_eq!(get_as(&app, &there, "/me").code().await, 401);
    assert_eq!(delete(&here).code().await, 404, "already ended");

    // API tokens do not see or end sessions.
    let made: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/tokens"))
        .json(&json!({ "name": "ci", "role": "admin" }))
        .fetch()
        .await;
    let token = made["token"].as_str().unwrap();
    let by_token = Client::new()
        .get(format!("{}/api/v1/account/sessions", app.url))
        .bearer_auth(token)
        .code()
        .await;
    assert_eq!(by_token, 403);

    let log: Value = get_as(&app, &here, "/account/events").fetch().await;
    let newest = &log["events"][0];
    assert_eq!(newest["action"], "session.revoke", "{log}");
    assert_eq!(newest["target"], firefox.as_str());
    assert_eq!(newest["details"]["device"], "Firefox 128 on Linux");
}
