//! Services and deployments over REST: create, validate, change, delete; deploy (202, queued
//! until the instance's agent takes it), cancel; and who may do which.

use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, ana_and_bo, column, error_of, node_service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_change_and_delete_services_with_clear_errors() {
    let app = TestApp::start().await;
    let cluster = &app.ana_cluster().await;
    let ins = app.instance(cluster, "web-1").await;

    let r = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&node_service(&ins))
        .sent()
        .await;
    assert_eq!(r.status(), 201);
    let svc: Value = r.json().await.unwrap();
    let id = svc["id"].as_str().unwrap();
    assert!(id.starts_with("svc_"), "{id}");
    assert_eq!(svc["status"], "new");
    assert_eq!(svc["runtime"], "node");
    assert_eq!(svc["health_check"]["http"]["path"], "/healthz");
    assert_eq!(svc["health_check"]["retries"], 5);
    assert_eq!(svc["restart"], "always");

    // The same name again, a bad field, an instance of another cluster: refused, named.
    let dup = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&node_service(&ins))
        .sent()
        .await;
    assert_eq!(error_of(dup).await.0, 409);
    let mut bad = node_service(&ins);
    bad["name"] = json!("Bad Name");
    assert_eq!(
        app.post(&format!("/api/v1/clusters/{cluster}/services"))
            .json(&bad)
            .refused_with("field")
            .await,
        (400, json!("name"))
    );
    let mut elsewhere = node_service("ins_nope");
    elsewhere["name"] = json!("other");
    assert_eq!(
        app.post(&format!("/api/v1/clusters/{cluster}/services"))
            .json(&elsewhere)
            .refused_with("field")
            .await,
        (400, json!("instance_id"))
    );

    // PATCH changes what is present; null clears.
    let patched: Value = app
        .patch(&format!("/api/v1/services/{id}"))
        .json(&json!({"start_command": "node server.js", "port": null, "env": {"A": "1"}}))
        .fetch()
        .await;
    assert_eq!(patched["start_command"], "node server.js");
    assert_eq!(patched["env"], json!({"A": "1"}));
    assert_eq!(patched["domains"], json!(["api.example.com"]));
    let shown: Value = app.get(&format!("/api/v1/services/{id}")).fetch().await;
    assert_eq!(shown, patched);

    // An instance that still runs services cannot be removed.
    let (status, err) = app
        .delete(&format!("/api/v1/instances/{ins}"))
        .refused()
        .await;
    assert_eq!(status, 409);
    assert!(err["message"].as_str().unwrap().contains("api"), "{err}");

    // The audit log names what changed, never env values.
    let events: Value = app
        .get(&format!("/api/v1/clusters/{cluster}"))
        .fetch()
        .await;
    let text = events.to_string();
    assert!(text.contains("service.update"), "{text}");
    assert!(
        !text.contains("production"),
        "env values leaked into events"
    );

    let gone = app.delete(&format!("/api/v1/services/{id}")).sent().await;
    assert_eq!(gone.status(), 204);
    assert_eq!(app.get(&format!("/api/v1/services/{id}")).code().await, 404);
    let r = app.delete(&format!("/api/v1/instances/{ins}")).sent().await;
    assert_eq!(r.status(), 204, "removable once its services are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_queue_until_the_agent_takes_them_and_can_be_cancelled() {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    let ins = app.instance(&cluster, "web-1").await;
    let id = &app.create_service(&cluster, &node_service(&ins)).await.id;

    let r = app
        .post(&format!("/api/v1/services/{id}/deployments"))
        .sent()
        .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    let dep = body["deployment"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["deployment"]["state"], "queued");
    assert_eq!(body["deployment"]["transitions"][0]["state"], "queued");

    let (status, err) = app
        .post(&format!("/api/v1/services/{id}/deployments"))
        .json(&json!({"ref": "--upload-pack=evil"}))
        .refused()
        .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("ref")));

    let shown: Value = app.get(&format!("/api/v1/services/{id}")).fetch().await;
    assert_eq!(shown["status"], "deploying");

    // The instance never connected: the deployment waits, and cancelling it ends it at once.
    let cancelled: Value = app
        .post(&format!("/api/v1/deployments/{dep}/cancel"))
        .fetch()
        .await;
    assert_eq!(cancelled["state"], "cancelled");
    assert!(
        cancelled["reason"]
            .as_str()
            .unwrap()
            .contains("ana@example.com")
    );
    let states = column(&cancelled["transitions"], "state");
    assert_eq!(states, ["queued", "cancelled"]);
    let again = app
        .post(&format!("/api/v1/deployments/{dep}/cancel"))
        .sent()
        .await;
    assert_eq!(error_of(again).await.0, 409);

    let list: Value = app
        .get(&format!("/api/v1/services/{id}/deployments"))
        .fetch()
        .await;
    assert_eq!(list["deployments"].as_array().unwrap().len(), 1);
    let shown: Value = app.get(&format!("/api/v1/services/{id}")).fetch().await;
    assert_eq!(shown["status"], "new", "nothing ever went live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_deploy_but_only_admins_manage_and_guests_only_look() {
    for (role, may_deploy) in [("member", true), ("guest", false)] {
        let app = TestApp::open().await;
        let (cluster, bo) = ana_and_bo(&app, role).await;
        let ins = app.instance(&cluster, "web-1").await;
        let id = &app.create_service(&cluster, &node_service(&ins)).await.id;
        let client = reqwest::Client::new();
        let as_bo =
            |req: reqwest::RequestBuilder| req.header("Origin", &app.origin).header("Cookie", &bo);
        let list = as_bo(client.get(format!("{}/api/v1/clusters/{cluster}/services", app.url)))
            .sent()
            .await;
        assert_eq!(list.status(), 200, "{role} may list");
        let mut other = node_service(&ins);
        other["name"] = json!("mine");
        let create = as_bo(client.post(format!("{}/api/v1/clusters/{cluster}/services", app.url)))
            .json(&other)
            .sent()
            .await;
        assert_eq!(error_of(create).await.0, 403, "{role} may not create");
        let patch = as_bo(client.patch(format!("{}/api/v1/services/{id}", app.url)))
            .json(&json!({"port": 9}))
            .sent()
            .await;
        assert_eq!(error_of(patch).await.0, 403, "{role} may not change");
        let deploy = as_bo(client.post(format!("{}/api/v1/services/{id}/deployments", app.url)))
            .sent()
            .await;
        let expected = if may_deploy { 202 } else { 403 };
        assert_eq!(deploy.status(), expected, "{role} deploy");
        let delete = as_bo(client.delete(format!("{}/api/v1/services/{id}", app.url)))
            .sent()
            .await;
        assert_eq!(error_of(delete).await.0, 403, "{role} may not delete");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_of_other_clusters_are_not_found() {
    let app = TestApp::open().await;
    let (cluster, _) = ana_and_bo(&app, "member").await;
    let ins = app.instance(&cluster, "web-1").await;
    let id = &app.create_service(&cluster, &node_service(&ins)).await.id;
    // Cara signs up on an open Base: her own cluster, nothing to do with Ana's.
    let cookie = app.stranger("cara@example.com", "Cara").await;
    for path in [
        format!("/api/v1/services/{id}"),
        format!("/api/v1/services/{id}/deployments"),
    ] {
        assert_eq!(
            reqwest::Client::new()
                .get(format!("{}{path}", app.url))
                .header("Cookie", &cookie)
                .code()
                .await,
            404,
            "{path}"
        );
    }
}
