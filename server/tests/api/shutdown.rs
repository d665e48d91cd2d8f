//! Stopping Base while clients hold responses that never end by themselves (a `dployr logs -f`,
//! a live page): it waits a while for them, then stops anyway, instead of hanging until every
//! client goes away (which once kept a stopped Base alive as long as a log follow was open).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::services::{instance, node_service};
use crate::support::TestApp;

#[tokio::test]
async fn base_stops_even_with_a_log_follow_open() {
    let app = TestApp::start().await;
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap();
    let ins = instance(&app, cluster, "web-1").await;
    let svc: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&node_service(&ins))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let follow = app
        .get(&format!(
            "/api/v1/services/{}/logs?follow=true",
            svc["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(follow.status(), 200);
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stopped after {:?}",
        started.elapsed()
    );
    drop(follow);
}
