//! `--local-agent`: after the first sign-up, Base enrolls and runs a dployrd beside itself, so
//! the newcomer's first cluster already has one online instance.

use std::time::Duration;

use serde_json::Value;

use crate::eventually;
use crate::support::{Options, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_cluster_gets_an_online_local_instance() {
    let app = TestApp::with(Options {
        local_agent: true,
        ..Options::default()
    })
    .await;
    let body: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = body["cluster"]["id"].as_str().unwrap().to_string();
    let list = || async {
        let v: Value = app
            .get(&format!("/api/v1/clusters/{cluster}/instances"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["instances"].as_array().cloned().unwrap_or_default()
    };
    eventually(Duration::from_secs(20), "local instance online", || async {
        list()
            .await
            .iter()
            .any(|i| i["name"] == "local" && i["status"] == "online")
    })
    .await;
    assert_eq!(list().await.len(), 1, "exactly one local instance");
    assert!(app.data_dir.join("local-agent/enrollment.json").exists());
    app.stop().await;
}
