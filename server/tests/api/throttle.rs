//! M2: the login throttle holds under parallel attempts (a slot is taken before the password
//! is hashed) and behind a proxy (the client is the rightmost untrusted `X-Forwarded-For` hop,
//! so a forged leftmost entry does not give an attacker a fresh address per attempt).

use futures_util::future::join_all;
use serde_json::json;

use crate::support::{Fetch, Options, TestApp};

/// A wrong-password login for `email`, from behind the test's proxy when `forwarded` is set.
async fn wrong_login(app: &TestApp, email: &str, forwarded: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("Origin", &app.origin)
        .json(&json!({ "email": email, "password": "not the password at all" }));
    if let Some(hops) = forwarded {
        req = req.header("X-Forwarded-For", hops);
    }
    req.code().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m2_parallel_logins_cannot_bypass_the_throttle() {
    let app = TestApp::start().await;
    app.ana_cluster().await;
    let codes = join_all((0..50).map(|_| wrong_login(&app, "ana@example.com", None))).await;
    let unauthorized = codes.iter().filter(|c| **c == 401).count();
    let limited = codes.iter().filter(|c| **c == 429).count();
    assert!(
        unauthorized <= 5,
        "{unauthorized} attempts were judged: {codes:?}"
    );
    assert_eq!(unauthorized + limited, 50, "{codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m2_forged_leftmost_forwarded_for_is_ignored() {
    let app = TestApp::with(Options {
        trust_proxy: true,
        ..Options::default()
    })
    .await;
    // One client (203.0.113.7, as the proxy on loopback saw it) tries 20 accounts, each time
    // writing a different address of its own at the left.
    for i in 0..20 {
        let hops = format!("198.51.100.{i}, 203.0.113.7");
        let code = wrong_login(&app, &format!("u{i}@example.com"), Some(&hops)).await;
        assert_eq!(code, 401, "attempt {i}");
    }
    let next = wrong_login(&app, "u99@example.com", Some("198.51.100.99, 203.0.113.7")).await;
    assert_eq!(
        next, 429,
        "the 21st failure from one address in a minute is refused"
    );
    // Another client behind the same proxy is not affected.
    let other = wrong_login(&app, "u98@example.com", Some("203.0.113.8")).await;
    assert_eq!(other, 401);
}
