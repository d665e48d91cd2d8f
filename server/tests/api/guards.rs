//! What protects every route: `Origin` checks, body parsing and size limits, unknown routes, the
//! dashboard's status codes, and graceful shutdown.

use serde_json::json;

use crate::support::{Fetch, TestApp, error_of, websocket_upgrade};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_foreign_origin_is_403_and_changes_nothing() {
    let app = TestApp::start().await;
    let body =
        json!({ "email": "ana@example.com", "password": "correct horse battery", "name": "Ana" });
    let url = format!("{}/api/v1/auth/signup", app.url);
    assert_eq!(
        app.client.post(&url).json(&body).refused_with("code").await,
        (403, json!("bad_origin"))
    );
    let (status, err) = app
        .client
        .post(&url)
        .header("Origin", "https://evil.example")
        .json(&body)
        .refused()
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        err["message"],
        "requests from https://evil.example are not allowed"
    );
    // Neither attempt created the account: the first real sign-up still owns the Base.
    assert_eq!(app.signup("ana@example.com").await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_check_origin_too() {
    let app = TestApp::start().await;
    let page = app
        .get("/signup")
        .header("Accept", "text/html")
        .fetch_text()
        .await;
    let start = page
        .find("action=\"/rpc/signup")
        .expect("signup form posts to a server fn")
        + 8;
    let action = &page[start..start + page[start..].find('"').unwrap()];
    let form = [
        ("name", "Ana"),
        ("email", "ana@example.com"),
        ("password", "correct horse battery"),
    ];
    assert_eq!(
        app.client
            .post(format!("{}{action}", app.url))
            .form(&form)
            .code()
            .await,
        403
    );
    let r = app
        .client
        .post(format!("{}{action}", app.url))
        .header("Origin", &app.origin)
        .form(&form)
        .sent()
        .await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    assert_eq!(
        app.get("/api/v1/me").code().await,
        200,
        "the server fn set the cookie"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400_with_a_message() {
    let app = TestApp::start().await;
    let (status, err) = app
        .post("/api/v1/auth/login")
        .header("Content-Type", "application/json")
        .body("{\"email\": \"ana@example.com\", ")
        .refused()
        .await;
    assert_eq!((status, err["code"].as_str()), (400, Some("bad_request")));
    assert!(err["message"].as_str().unwrap().contains("EOF"), "{err}");

    let (status, err) = app
        .post("/api/v1/auth/login")
        .json(&json!({ "email": 7 }))
        .refused()
        .await;
    assert_eq!(status, 422, "well-formed JSON of the wrong shape");
    assert!(err["message"].as_str().unwrap().contains("email"), "{err}");

    assert_eq!(
        app.post("/api/v1/auth/login")
            .body("email=a")
            .refused_with("code")
            .await,
        (415, json!("unsupported_media_type"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_body_is_413() {
    let app = TestApp::start().await;
    let huge =
        json!({ "email": "ana@example.com", "password": "x".repeat(100 * 1024), "name": "Ana" });
    let (status, err) = app.post("/api/v1/auth/signup").json(&huge).refused().await;
    assert_eq!(
        (status, err["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert!(err["message"].as_str().unwrap().contains("64 KiB"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_routes_are_json_404s_and_pages_are_html_404s() {
    let app = TestApp::start().await;
    assert_eq!(
        app.get("/api/v1/nope").refused_with("code").await,
        (404, json!("not_found"))
    );
    let page = app
        .get("/no/such/page")
        .header("Accept", "text/html")
        .sent()
        .await;
    assert_eq!(page.status(), 404);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("This page does not exist")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_dashboard_pages_redirect_to_login_with_302() {
    let app = TestApp::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let get = |p: &str| {
        client
            .get(format!("{}{p}", app.url))
            .header("Accept", "text/html")
            .send()
    };
    let r = get("/").await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (302, "/signup")
    );
    app.signup("ana@example.com").await;
    let r = get("/").await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (302, "/login")
    );
    let r = get("/account").await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (302, "/login")
    );
}

/// The page without Leptos's hydration markers (`<!>`, `<!---->` and the like), as a person reads
/// it; the doctype stays.
pub fn without_markers(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<!") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail[2..].to_ascii_lowercase().starts_with("doctype") {
            out.push_str("<!");
            rest = &tail[2..];
            continue;
        }
        rest = tail.find('>').map_or("", |end| &tail[end + 1..]);
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_overview_renders_real_html_before_any_wasm() {
    let app = TestApp::start().await;
    let id = &app.ana_cluster().await;
    let html = app
        .get(&format!("/c/{id}"))
        .header("Accept", "text/html")
        .fetch_text()
        .await;
    let html = without_markers(&html);
    for needle in [
        "<h1>Ana's cluster</h1>",
        "No instances yet",
        "No services yet",
        "created the cluster",
    ] {
        assert!(
            html.contains(needle),
            "{needle:?} not in the server-rendered page"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_answers_and_the_server_stops_gracefully() {
    let app = TestApp::start().await;
    let r = app.get("/healthz").sent().await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrades_need_the_right_origin_too() {
    let app = TestApp::start().await;
    let upgrade = |origin: Option<&str>| {
        let mut r = websocket_upgrade(app.get("/api/v1/me"));
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        r.send()
    };
    let (status, err) = error_of(upgrade(None).await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("bad_origin")));
    let (status, _) = error_of(upgrade(Some("https://evil.example")).await.unwrap()).await;
    assert_eq!(status, 403);
    // With Base's own origin the request passes the guard (and fails later: not signed in).
    let (status, _) = error_of(upgrade(Some(&app.origin)).await.unwrap()).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_goes_gzipped_once_made_and_unchanged() {
    use std::io::Read;
    let app = TestApp::start().await;
    let url = format!("{}/pkg/frontend_bg.wasm", app.url);
    let plain = app.client.get(&url).sent().await;
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(plain.starts_with(b"\0asm"), "a WASM module");
    for _ in 0..2 {
        let gz = app
            .client
            .get(&url)
            .header("Accept-Encoding", "br, gzip")
            .sent()
            .await;
        assert_eq!(gz.headers()["content-encoding"], "gzip");
        assert_eq!(gz.headers()["content-type"], "application/wasm");
        let gz = gz.bytes().await.unwrap();
        assert!(
            gz.len() < plain.len() / 2,
            "compressed: {} of {}",
            gz.len(),
            plain.len()
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, plain, "the same bytes once unzipped");
    }
}
