//! Sign-up, log-in, log-out, password change, `me`, and the session cookie.

use reqwest::Client;
use serde_json::{Value, json};

use crate::support::{Fetch, Options, PASSWORD, TestApp, error_of, session_cookie, set_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_signup_gets_a_cluster_and_a_safe_session_cookie() {
    let app = TestApp::start().await;
    let r = app.signup("Ana@Example.com").await;
    assert_eq!(r.status(), 201);
    let cookie = set_cookie(&r);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ana@example.com");
    assert_eq!(body["cluster"]["role"], "owner");
    assert_eq!(body["cluster"]["name"], "Ana's cluster");
    assert!(cookie.starts_with("dployr_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(
            cookie.split("; ").any(|a| a == attr),
            "{attr} missing from {cookie}"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-http Base must not set Secure: {cookie}"
    );

    let me: Value = app.get("/api/v1/me").fetch().await;
    assert_eq!(me["user"]["name"], "Ana Lopez");
    assert_eq!(me["clusters"].as_array().unwrap().len(), 1);
    app.stop().await;
}

/// Behind a proxy that terminates TLS: Base speaks plain HTTP, but browsers see https.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_is_secure_and_host_prefixed_when_base_is_served_over_https() {
    let app = TestApp::with(Options {
        open_signup: false,
        public_url: Some("https://dployr.example.com"),
        ..Options::default()
    })
    .await;
    let r = app.signup("ana@example.com").await;
    assert_eq!(r.status(), 201);
    assert!(set_cookie(&r).ends_with("; Secure"), "{}", set_cookie(&r));
    assert!(
        set_cookie(&r).starts_with("__Host-dployr_session="),
        "{}",
        set_cookie(&r)
    );
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_closes_after_the_first_person_unless_open() {
    let app = TestApp::start().await;
    assert_eq!(app.signup("ana@example.com").await.status(), 201);
    let (status, err) = error_of(app.signup("bo@example.com").await).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("signup_closed")));

    let open = TestApp::open().await;
    assert_eq!(open.signup("ana@example.com").await.status(), 201);
    assert_eq!(open.signup("bo@example.com").await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_email_is_409() {
    let app = TestApp::open().await;
    assert_eq!(app.signup("ana@example.com").await.status(), 201);
    let (status, err) = error_of(app.signup("ANA@example.com").await).await;
    assert_eq!(status, 409);
    assert_eq!(err["code"], "conflict");
    assert_eq!(err["message"], "an account with this email already exists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_password_is_refused_with_the_field_and_a_reason() {
    let app = TestApp::start().await;
    let (status, err) = app
        .post("/api/v1/auth/signup")
        .json(&json!({ "email": "ana@example.com", "password": "short", "name": "Ana" }))
        .refused()
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["field"], "password");
    assert_eq!(err["message"], "use at least 10 characters");
    // Nothing was created: the same person can still sign up as the first user.
    assert_eq!(app.signup("ana@example.com").await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = TestApp::start().await;
    app.signup("ana@example.com").await;
    let (s1, wrong) = error_of(app.login("ana@example.com", "not the password").await).await;
    let (s2, unknown) = error_of(app.login("nobody@example.com", PASSWORD).await).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["message"], "invalid email or password");
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixth_failed_login_in_a_minute_is_429_with_retry_after() {
    let app = TestApp::start().await;
    app.signup("ana@example.com").await;
    for i in 0..5 {
        let r = app.login("ana@example.com", "wrong password!").await;
        assert_eq!(r.status(), 401, "attempt {}", i + 1);
    }
    let r = app.login("ana@example.com", "wrong password!").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let (_, err) = error_of(r).await;
    assert_eq!(err["code"], "rate_limited");
    // Even the right password waits: the account is being guessed at.
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_session_cookie_is_401() {
    let app = TestApp::start().await;
    let r = app.signup("ana@example.com").await;
    let token = session_cookie(&r);
    assert_eq!(app.post("/api/v1/auth/logout").code().await, 204);

    // Replay the old cookie from a fresh client: the server revoked it.
    assert_eq!(
        Client::new()
            .get(format!("{}/api/v1/me", app.url))
            .header("Cookie", &token)
            .refused_with("code")
            .await,
        (401, json!("unauthorized"))
    );
    let (status, _) = app.get("/api/v1/me").refused().await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_checks_the_current_one_and_revokes_other_sessions() {
    let app = TestApp::start().await;
    app.signup("ana@example.com").await;
    // A second session, as from another device (a client without the first one's cookie jar).
    let second = Client::new()
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("Origin", &app.origin)
        .json(&json!({ "email": "ana@example.com", "password": PASSWORD }))
        .sent()
        .await;
    let other = session_cookie(&second);
    let (status, err) = app
        .post("/api/v1/auth/password")
        .json(
            &json!({ "current_password": "nope nope nope", "new_password": "a whole new secret" }),
        )
        .refused()
        .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("current_password"))
    );
    let ok = app
        .post("/api/v1/auth/password")
        .json(&json!({ "current_password": PASSWORD, "new_password": "a whole new secret" }))
        .sent()
        .await;
    assert_eq!(ok.status(), 204);
    let replay = Client::new()
        .get(format!("{}/api/v1/me", app.url))
        .header("Cookie", other)
        .sent()
        .await;
    assert_eq!(replay.status(), 401, "the other session was revoked");
    assert_eq!(app.get("/api/v1/me").code().await, 200, "this one stays");
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status(), 401);
    assert_eq!(
        app.login("ana@example.com", "a whole new secret")
            .await
            .status(),
        200
    );
}
