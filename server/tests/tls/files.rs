//! `--tls files`: Base serves HTTPS with the operator's certificate, sets the `__Host-`
//! session cookie, sends HSTS, and picks up a renewed certificate without a restart.

use std::time::Duration;

use server::tls::TlsMode;

use crate::support::{
    Base, Bound, DEADLINE, HOST, config, handshake, https_client, issue, run, set_cookie, signup,
    try_handshake, url, wait_healthy,
};

/// A Base with `--tls files` on a fresh certificate.
struct Files {
    base: Base,
    /// The CA's DER.
    ca: Vec<u8>,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    /// The plain listener's port, when asked for.
    plain: Option<u16>,
}

async fn files_base(plain: bool) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let (ca, chain, key, _) = issue();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, chain).unwrap();
    std::fs::write(&key_path, key).unwrap();
    let bound = Bound::new(plain).await;
    let plain = bound.plain_port();
    let mut config = config(&dir, &format!("https://{HOST}:{}", bound.port()));
    config.tls.mode = TlsMode::Files;
    config.tls.tls_cert = Some(cert_path.clone());
    config.tls.tls_key = Some(key_path.clone());
    config.tls.http_listen = bound.plain.as_ref().map(|l| l.local_addr().unwrap());
    let base = run(config, bound, dir);
    wait_healthy(&https_client(base.addr, &ca), &base, String::new).await;
    Files {
        base,
        ca,
        cert: cert_path,
        key: key_path,
        plain,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_mode_serves_healthz_over_https_with_hsts_and_the_security_headers() {
    let Files { base, ca, .. } = files_base(false).await;
    let client = https_client(base.addr, &ca);
    let r = client.get(url(base.addr, "/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["strict-transport-security"], "max-age=31536000");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        h["permissions-policy"]
            .to_str()
            .unwrap()
            .contains("camera=()")
    );
    assert_eq!(r.text().await.unwrap(), "ok");

    // Real TLS: a client that does not trust the operator's CA is refused.
    let (other_ca, ..) = issue();
    let stranger = https_client(base.addr, &other_ca);
    let err = stranger.get(url(base.addr, "/healthz")).send().await;
    assert!(err.is_err(), "a certificate from another CA was accepted");
    // And nobody gets plain HTTP on the TLS port.
    let plain = reqwest::get(format!("http://{}/healthz", base.addr)).await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_base_offers_http2_and_http11() {
    let Files { base, ca, .. } = files_base(false).await;
    let (_, h2) = handshake(base.addr, &ca, &[b"h2", b"http/1.1"]).await;
    assert_eq!(h2.as_deref(), Some(&b"h2"[..]));
    let (_, h1) = handshake(base.addr, &ca, &[b"http/1.1"]).await;
    assert_eq!(h1.as_deref(), Some(&b"http/1.1"[..]));
    let r = https_client(base.addr, &ca)
        .get(url(base.addr, "/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_over_https_sets_a_host_prefixed_secure_cookie_that_authenticates() {
    let Files { base, ca, .. } = files_base(false).await;
    let client = https_client(base.addr, &ca);
    let origin = url(base.addr, "");
    let r = signup(&client, &origin, &origin).await;
    assert_eq!(r.status(), 201);
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("__Host-dployr_session="), "{cookie}");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            cookie.split("; ").any(|a| a == attr),
            "{attr} missing: {cookie}"
        );
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let token = pair.split_once('=').unwrap().1.to_string();

    let me = |cookie: String| {
        let client = client.clone();
        let addr = base.addr;
        async move {
            client
                .get(url(addr, "/api/v1/me"))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    let r = me(pair.clone()).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ana@example.com");
    // Under TLS the unprefixed name is not read: a sibling subdomain could have planted it.
    assert_eq!(me(format!("dployr_session={token}")).await.status(), 401);
    // The dashboard's pages see the session too (the signed-in layout names the user).
    let page = client
        .get(url(base.addr, "/"))
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    let signed_out = client.get(url(base.addr, "/")).send().await.unwrap();
    assert_ne!(
        (page.status(), page.headers().get("location").cloned()),
        (
            signed_out.status(),
            signed_out.headers().get("location").cloned()
        ),
        "the page looked the same with and without the cookie"
    );

    let out = client
        .post(url(base.addr, "/api/v1/auth/logout"))
        .header("Origin", &origin)
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let cleared = set_cookie(&out);
    assert!(cleared.starts_with("__Host-dployr_session=;"), "{cleared}");
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("Secure"),
        "{cleared}"
    );
    assert_eq!(me(pair).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_file_is_served_without_a_restart() {
    let Files {
        base,
        ca,
        cert,
        key,
        ..
    } = files_base(false).await;
    let (first, _) = handshake(base.addr, &ca, &[b"http/1.1"]).await;
    let (new_ca, new_chain, new_key, new_leaf) = issue();
    // The key first, as a renewal tool might: the mismatched pair in between must not serve.
    std::fs::write(&key, new_key).unwrap();
    std::fs::write(&cert, new_chain).unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while let Ok((served, _)) = try_handshake(base.addr, &ca, &[b"http/1.1"]).await {
        assert_eq!(served, first, "neither the old nor the new leaf");
        assert!(tokio::time::Instant::now() < deadline, "never reloaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (served, _) = handshake(base.addr, &new_ca, &[b"http/1.1"]).await;
    assert_eq!(served, new_leaf);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plain_listener_redirects_to_the_https_public_url_and_knows_no_challenges() {
    let Files { base, plain, .. } = files_base(true).await;
    let plain = plain.unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("http://127.0.0.1:{plain}/c/x/services?tab=logs"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(
        r.headers()["location"],
        url(base.addr, "/c/x/services?tab=logs").as_str()
    );
    let r = client
        .get(format!(
            "http://127.0.0.1:{plain}/.well-known/acme-challenge/nope"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_plain_http_public_url_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let bound = Bound::new(false).await;
    let mut config = config(&dir, &format!("http://{HOST}:{}", bound.port()));
    config.tls.mode = TlsMode::Files;
    config.tls.tls_cert = Some(dir.path().join("c.pem"));
    config.tls.tls_key = Some(dir.path().join("k.pem"));
    let mut base = run(config, bound, dir);
    let ended = tokio::time::timeout(DEADLINE, &mut base.task).await;
    let err = format!("{:#}", ended.unwrap().unwrap().unwrap_err());
    assert!(err.contains("public URL must be https://"), "{err}");
}

/// The path of the server function `name` (the macro appends a hash to it).
fn rpc_path(name: &str) -> String {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .find(|p| {
            p.trim_start_matches("/rpc/")
                .trim_end_matches(|c: char| c.is_ascii_digit())
                == name
        })
        .unwrap_or_else(|| panic!("no server function {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_and_websockets_read_the_host_prefixed_cookie() {
    let Files { base, ca, .. } = files_base(false).await;
    let client = https_client(base.addr, &ca);
    let origin = url(base.addr, "");
    let r = signup(&client, &origin, &origin).await;
    let pair = set_cookie(&r).split(';').next().unwrap().to_string();
    let body: serde_json::Value = r.json().await.unwrap();
    let cluster = body["cluster"]["id"].as_str().unwrap().to_string();

    let call = |name: &str, cookie: Option<&str>| {
        let mut req = client
            .post(url(base.addr, &rpc_path(name)))
            .header("Origin", &origin)
            .header("Content-Type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send()
    };
    let me: serde_json::Value = call("get_me", Some(&pair))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "ana@example.com", "{me}");
    let nobody: serde_json::Value = call("get_me", None).await.unwrap().json().await.unwrap();
    assert!(nobody.is_null(), "{nobody}");

    // A live view's WebSocket (HTTP/1.1: upgrades are not HTTP/2's) takes the session too.
    let h1 = reqwest::Client::builder()
        .http1_only()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(&ca).unwrap())
        .resolve(HOST, base.addr)
        .build()
        .unwrap();
    let upgrade = |cookie: &str| {
        h1.get(url(
            base.addr,
            &format!("/api/v1/clusters/{cluster}/services/live"),
        ))
        .header("Origin", &origin)
        .header("Cookie", cookie)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
    };
    assert_eq!(upgrade(&pair).await.unwrap().status(), 101);
    let token = pair.split_once('=').unwrap().1;
    let plain_name = upgrade(&format!("dployr_session={token}")).await.unwrap();
    assert_eq!(plain_name.status(), 401);

    // Signing out through the dashboard clears the prefixed cookie.
    let out = call("logout", Some(&pair)).await.unwrap();
    let cleared: Vec<_> = out
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("__Host-dployr_session=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
}
