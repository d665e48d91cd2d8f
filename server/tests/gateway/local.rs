//! `--local-agent`: after the first sign-up, Base enrolls and runs a dployrd beside itself, so
//! the newcomer's first cluster already has one online instance.

use std::time::Duration;

use serde_json::Value;

use crate::eventually;
use crate::support::{Fetch, Options, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_cluster_gets_an_online_local_instance() {
    let app = TestApp::with(Options {
        local_agent: true,
        ..Options::default()
    })
    .await;
    let cluster = app.ana_cluster().await;
    let list = || async {
        let v: Value = app
            .get(&format!("/api/v1/clusters/{cluster}/instances"))
            .fetch()
            .await;
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
