//! `--tls off`, as in local development: plain HTTP, the unprefixed cookie without `Secure`,
//! and no HSTS.

use crate::support::{Bound, config, run, set_cookie, signup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_base_keeps_the_unprefixed_cookie_without_secure_or_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let bound = Bound::new(false).await;
    let origin = format!("http://127.0.0.1:{}", bound.port());
    let base = run(config(&dir, &origin), bound, dir);
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + crate::support::DEADLINE;
    let health = loop {
        match client.get(format!("{origin}/healthz")).send().await {
            Ok(r) => break r,
            Err(e) => assert!(tokio::time::Instant::now() < deadline, "{e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(health.status(), 200);
    assert!(!health.headers().contains_key("strict-transport-security"));
    assert!(health.headers().contains_key("permissions-policy"));

    let r = signup(&client, &origin, &origin).await;
    assert_eq!(r.status(), 201);
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("dployr_session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let me = client
        .get(format!("{origin}/api/v1/me"))
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    drop(base);
}
