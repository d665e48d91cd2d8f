//! Two-factor sign-in over REST: setup and confirm with a code, `202` and a challenge instead
//! of a session after the password, the second step with a backup code (refused the second
//! time), a replayed code refused, and a cluster requiring two-factor of its members.

use reqwest::Client;
use serde_json::{Value, json};

use crate::support::{Fetch, PASSWORD, TestApp, ana_and_bo, error_of, set_cookie};
use control::two_factor::totp;

/// The code an authenticator app shows now for `secret` (base32).
fn code_now(secret: &str) -> String {
    totp::code_now(
        &totp::from_base32(secret).unwrap(),
        control::clock::now_ms(),
    )
}

/// Turns two-factor on for the app client's account: the code that confirmed it and the backup
/// codes.
async fn enrol(app: &TestApp) -> (String, Vec<String>) {
    let setup: Value = app.post("/api/v1/account/2fa/setup").fetch().await;
    assert!(
        setup["qr_svg"].as_str().unwrap().contains("<svg"),
        "{setup}"
    );
    let secret = setup["secret"].as_str().unwrap().to_string();
    let confirming = code_now(&secret);
    let codes: Value = app
        .post("/api/v1/account/2fa/confirm")
        .json(&json!({ "code": confirming }))
        .fetch()
        .await;
    let codes: Vec<String> = serde_json::from_value(codes["backup_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    (confirming, codes)
}

async fn challenge(app: &TestApp) -> String {
    let r = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(r.status(), 202);
    assert!(
        r.headers().get("set-cookie").is_none(),
        "no session before the code"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["expires_in_secs"], 300);
    body["challenge"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_then_a_code_signs_in() {
    let app = TestApp::start().await;
    app.sign_up("ana@example.com").await;
    let (confirming, backup) = enrol(&app).await;
    let status: Value = app.get("/api/v1/account/2fa").fetch().await;
    assert_eq!(status, json!({ "enabled": true, "backup_codes_left": 10 }));

    // The confirming code is spent: it cannot step up (or sign in) again.
    let (status, err) = app
        .post("/api/v1/account/2fa/step-up")
        .json(&json!({ "code": confirming }))
        .refused()
        .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("code")),
        "{err}"
    );

    let second = |challenge: String, code: String| {
        app.post("/api/v1/auth/login/2fa")
            .json(&json!({ "challenge": challenge, "code": code }))
            .sent()
    };
    let r = second(challenge(&app).await, backup[0].clone()).await;
    assert_eq!(r.status(), 200);
    let cookie = set_cookie(&r);
    let me: Value = Client::new()
        .get(format!("{}/api/v1/me", app.url))
        .header("Cookie", cookie.split(';').next().unwrap())
        .fetch()
        .await;
    assert_eq!(me["user"]["email"], "ana@example.com");

    let (status, err) = error_of(second(challenge(&app).await, backup[0].clone()).await).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("code")),
        "{err}"
    );
    let (status, err) = error_of(second("not-a-challenge".into(), backup[1].clone()).await).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("unauthorized")),
        "{err}"
    );
    let status: Value = app.get("/api/v1/account/2fa").fetch().await;
    assert_eq!(status["backup_codes_left"], 9);

    // New backup codes (this session stepped up at enrolment): ten, and the old ones are gone.
    let renewed: Value = app.post("/api/v1/account/2fa/backup-codes").fetch().await;
    let renewed: Vec<String> = serde_json::from_value(renewed["backup_codes"].clone()).unwrap();
    assert_eq!(renewed.len(), 10);
    assert!(renewed.iter().all(|c| !backup.contains(c)));
    let (status, err) = error_of(second(challenge(&app).await, backup[2].clone()).await).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("code")),
        "{err}"
    );
    assert_eq!(
        second(challenge(&app).await, renewed[0].clone())
            .await
            .status(),
        200
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_requiring_two_factor_refuses_members_without_it() {
    let app = TestApp::open().await;
    let (cluster, bo) = ana_and_bo(&app, "member").await;
    let require = |required: bool| {
        app.put(&format!("/api/v1/clusters/{cluster}/require-2fa"))
            .json(&json!({ "required": required }))
    };
    let (status, err) = require(true).refused().await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("conflict")),
        "{err}"
    );
    enrol(&app).await;
    assert_eq!(require(true).code().await, 204);

    let (status, err) = error_of(
        Client::new()
            .get(format!("{}/api/v1/clusters/{cluster}", app.url))
            .header("Cookie", &bo)
            .sent()
            .await,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("two_factor_required")),
        "{err}"
    );
    // Bo's own account still answers.
    let me = Client::new()
        .get(format!("{}/api/v1/me", app.url))
        .header("Cookie", &bo)
        .code()
        .await;
    assert_eq!(me, 200);
    app.stop().await;
}
