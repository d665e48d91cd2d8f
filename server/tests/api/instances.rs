//! `/api/v1/…/instances` and who may do what with them.

use proto::api::InstanceStatus;
use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, ana_and_bo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_add_and_remove_instances_and_get_a_one_time_install_command() {
    let app = TestApp::start().await;
    let cluster = &app.ana_cluster().await;
    let made = app.create_instance(cluster, "web-1").await;
    assert_eq!(made.instance.status, InstanceStatus::Pending);
    let token = &made.join_token;
    let cmd = &made.install_command;
    assert!(
        cmd.starts_with(&format!(
            "curl -fsSL {}/install.sh | sh -s -- --url wss://127.0.0.1:",
            app.url
        )),
        "{cmd}"
    );
    assert!(
        cmd.contains(&format!("--token {token} --pin sha256:")),
        "{cmd}"
    );

    assert_eq!(
        app.post(&format!("/api/v1/clusters/{cluster}/instances"))
            .json(&json!({ "name": "web-1" }))
            .refused_with("code")
            .await,
        (409, json!("conflict"))
    );

    let list: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/instances"))
        .fetch()
        .await;
    assert_eq!(list["instances"].as_array().unwrap().len(), 1);
    assert!(
        !list.to_string().contains(token),
        "the join token is never shown again"
    );

    let id = &made.instance.id;
    assert_eq!(
        app.delete(&format!("/api/v1/instances/{id}")).code().await,
        204
    );
    let (status, _) = app
        .delete(&format!("/api/v1/instances/{id}"))
        .refused()
        .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_guests_see_instances_but_cannot_add_or_remove_them() {
    for role in ["member", "guest"] {
        let app = TestApp::open().await;
        let (cluster, bo) = ana_and_bo(&app, role).await;
        let id = app.instance(&cluster, "web-1").await;
        let client = reqwest::Client::new();
        let list = client
            .get(format!("{}/api/v1/clusters/{cluster}/instances", app.url))
            .header("Cookie", &bo)
            .sent()
            .await;
        assert_eq!(list.status(), 200, "{role} may list");
        assert_eq!(
            client
                .post(format!("{}/api/v1/clusters/{cluster}/instances", app.url))
                .header("Origin", &app.origin)
                .header("Cookie", &bo)
                .json(&json!({ "name": "mine" }))
                .refused_with("code")
                .await,
            (403, json!("forbidden")),
            "{role} may not add"
        );
        let remove = client
            .delete(format!("{}/api/v1/instances/{id}", app.url))
            .header("Origin", &app.origin)
            .header("Cookie", &bo)
            .sent()
            .await;
        assert_eq!(remove.status(), 403, "{role} may not remove");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_signed_out_clients_cannot_watch_instances_live() {
    let app = TestApp::open().await;
    let cluster = &app.ana_cluster().await;
    let live = format!("/api/v1/clusters/{cluster}/instances/live");
    assert_eq!(app.upgrade_status(&live, None).await, 401);
    let eve = app.stranger("eve@example.com", "Eve").await;
    assert_eq!(app.upgrade_status(&live, Some(&eve)).await, 404);
}
