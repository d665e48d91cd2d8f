//! A service's kind and runtime version over REST: set on create, changed and cleared by PATCH
//! (`null`), refused with the setting named (a version for an image, a static image, a version
//! that is not one), and named in the audit log's `service.update`.

use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, error_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kind_and_runtime_version_are_set_changed_cleared_and_checked() {
    let app = TestApp::start().await;
    let cluster = &app.ana_cluster().await;
    let ins = app.instance(cluster, "web-1").await;
    let create = |body: Value| {
        app.post(&format!("/api/v1/clusters/{cluster}/services"))
            .json(&body)
            .send()
    };

    let r = create(json!({
        "name": "jobs", "instance_id": ins,
        "source": {"git": {"url": "https://example.com/jobs.git"}},
        "kind": "worker", "runtime_version": " 20 ",
    }))
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let svc: Value = r.json().await.unwrap();
    assert_eq!(
        (&svc["kind"], &svc["runtime_version"]),
        (&json!("worker"), &json!("20"))
    );
    let id = svc["id"].as_str().unwrap();

    let patch = |body: Value| {
        app.patch(&format!("/api/v1/services/{id}"))
            .json(&body)
            .send()
    };
    let changed: Value = patch(json!({"kind": "web", "runtime_version": ">=18 <21"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["kind"], "web");
    assert_eq!(changed["runtime_version"], ">=18 <21");
    // Absent fields stay; null clears.
    let cleared: Value = patch(json!({"runtime_version": null}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["kind"], "web");
    assert_eq!(cleared["runtime_version"], Value::Null);
    let cleared: Value = patch(json!({"kind": null}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["kind"], Value::Null);
    let shown: Value = app.get(&format!("/api/v1/services/{id}")).fetch().await;
    assert_eq!(shown, cleared);

    // Refusals name the setting and say why.
    let (status, err) = error_of(patch(json!({"runtime_version": "latest"})).await.unwrap()).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("runtime_version"))
    );
    assert!(
        err["message"].as_str().unwrap().contains("not a version"),
        "{err}"
    );
    let (status, _) = error_of(patch(json!({"kind": "daemon"})).await.unwrap()).await;
    assert!((400..500).contains(&status), "an unknown kind: {status}");
    let image = |extra: Value| {
        let mut body = json!({"name": "web", "instance_id": ins, "source": {"image": "nginx:1"}});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        create(body)
    };
    let (status, err) = error_of(image(json!({"runtime_version": "20"})).await.unwrap()).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("runtime_version"))
    );
    assert!(err["message"].as_str().unwrap().contains("image"), "{err}");
    let (status, err) = error_of(image(json!({"kind": "static"})).await.unwrap()).await;
    assert_eq!((status, err["field"].as_str()), (400, Some("kind")));
    // A worker from an image is fine.
    let r = image(json!({"kind": "worker"})).await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["kind"], "worker");

    // The audit log names the settings changed.
    let events: Value = app
        .get(&format!(
            "/api/v1/clusters/{cluster}/events?action=service.update"
        ))
        .fetch()
        .await;
    let changed: Vec<Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["details"]["changed"].as_array().unwrap().clone())
        .collect();
    assert!(changed.contains(&json!("kind")), "{events}");
    assert!(changed.contains(&json!("runtime_version")), "{events}");
}
