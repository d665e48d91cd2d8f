//! Stopping Base while clients hold responses that never end by themselves (a `dployr logs -f`,
//! a live page): it waits a while for them, then stops anyway, instead of hanging until every
//! client goes away (which once kept a stopped Base alive as long as a log follow was open).

use std::time::{Duration, Instant};

use crate::support::{Fetch, Options, TestApp, node_service};

/// The drain this test gives Base (`DPLOYR_SHUTDOWN_DRAIN_SECS`), short so it waits little.
const DRAIN_SECS: u64 = 1;

#[tokio::test]
async fn base_stops_even_with_a_log_follow_open() {
    let app = TestApp::with(Options {
        shutdown_drain_secs: Some(DRAIN_SECS),
        ..Options::default()
    })
    .await;
    let cluster = app.ana_cluster().await;
    let ins = app.instance(&cluster, "web-1").await;
    let svc = app.create_service(&cluster, &node_service(&ins)).await;
    let follow = app
        .get(&format!("/api/v1/services/{}/logs?follow=true", svc.id))
        .sent()
        .await;
    assert_eq!(follow.status(), 200);
    let started = Instant::now();
    app.stop().await;
    // The drain, plus the same 5 s of slack the test allowed when the drain was a fixed 10 s.
    assert!(
        started.elapsed() < Duration::from_secs(DRAIN_SECS + 5),
        "stopped after {:?}",
        started.elapsed()
    );
    drop(follow);
}
