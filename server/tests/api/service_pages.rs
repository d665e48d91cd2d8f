//! The Services pages as the server renders them for each role, and their server functions
//! refusing what the role may not do even when called directly (the pages only hide buttons).

use serde_json::{Value, json};

use crate::support::{TestApp, ana_and_bo};

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let mut r = reqwest::Client::new()
        .get(format!("{}{path}", app.url))
        .header("Accept", "text/html");
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// The `action` of the form whose action starts with `/rpc/{name}`.
fn action_of(html: &str, name: &str) -> String {
    let start = html
        .find(&format!("action=\"/rpc/{name}"))
        .unwrap_or_else(|| panic!("a form posting to {name}"))
        + 8;
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

async fn service(app: &TestApp, cluster: &str) -> String {
    let made: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/instances"))
        .json(&json!({ "name": "web-1" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let svc: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&json!({
            "name": "api",
            "instance_id": made["instance"]["id"],
            "source": {"image": "nginx:1"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    svc["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_only_the_buttons_it_may_use_and_the_server_refuses_the_rest() {
    for role in ["member", "guest"] {
        let app = TestApp::open().await;
        let (cluster, bo) = ana_and_bo(&app, role).await;
        let id = service(&app, &cluster).await;
        let path = format!("/c/{cluster}/services/{id}");

        // Ana (Owner) gets every control, rendered on the server.
        let owner = app
            .client
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(owner.contains("id=\"deploy-form\""));
        assert!(owner.contains("id=\"delete-service\""));
        let deploy = action_of(&owner, "deploy_service");
        let update = action_of(&owner, "update_service");

        let html = page(&app, &path, Some(&bo)).await;
        assert!(html.contains("nginx:1"), "{role} sees the service");
        assert!(
            !html.contains("id=\"delete-service\""),
            "{role} has no Delete"
        );
        assert!(
            !html.contains("Save settings"),
            "{role} cannot save settings"
        );
        assert_eq!(
            html.contains("id=\"deploy-form\""),
            role == "member",
            "only members and up may deploy"
        );
        let list = page(&app, &format!("/c/{cluster}/services"), Some(&bo)).await;
        assert!(list.contains("data-service=\"svc_"));
        assert!(
            !list.contains("id=\"new-service\""),
            "{role} has no New service"
        );

        // Calling the server functions directly changes nothing the role may not change.
        let post = |action: &str, form: Vec<(&'static str, String)>| {
            reqwest::Client::new()
                .post(format!("{}{action}", app.url))
                .header("Origin", &app.origin)
                .header("Cookie", &bo)
                .header("Accept", "application/json")
                .form(&form)
                .send()
        };
        let r = post(
            &update,
            vec![
                ("service_id", id.clone()),
                ("f[name]", "renamed".into()),
                ("f[source]", "image".into()),
                ("f[image]", "nginx:1".into()),
            ],
        )
        .await
        .unwrap();
        assert!(!r.status().is_success(), "{role} may not change settings");
        assert!(r.text().await.unwrap().contains("Forbidden"));
        let r = post(
            &deploy,
            vec![("service_id", id.clone()), ("git_ref", "".into())],
        )
        .await
        .unwrap();
        assert_eq!(r.status().is_success(), role == "member", "{role} deploy");
        let deployments: Value = app
            .get(&format!("/api/v1/services/{id}/deployments"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let expected = usize::from(role == "member");
        assert_eq!(
            deployments["deployments"].as_array().unwrap().len(),
            expected
        );
        let shown: Value = app
            .get(&format!("/api/v1/services/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown["name"], "api");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_form_shows_and_saves_kind_and_runtime_version() {
    let app = TestApp::start().await;
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap();
    let ins = crate::services::instance(&app, cluster, "web-1").await;
    let svc: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&json!({
            "name": "jobs", "instance_id": ins,
            "source": {"git": {"url": "https://example.com/jobs.git"}},
            "kind": "worker", "runtime_version": "20",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = svc["id"].as_str().unwrap();
    let html = app
        .get(&format!("/c/{cluster}/services/{id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "id=\"svc-kind\" name=\"f[kind]\"",
        "id=\"svc-runtime-version\" type=\"text\" name=\"f[runtime_version]\" value=\"20\"",
        "placeholder=\"20, 3.12, &gt;=18\"",
    ] {
        assert!(html.contains(needle), "{needle:?} not in the page");
    }
    let worker = html.find("value=\"worker\"").expect("a worker option");
    assert!(
        html[worker..worker + 40].contains("selected"),
        "the stored kind is chosen: {}",
        &html[worker..worker + 40]
    );

    // Saving the form (as the browser posts it) changes them; Detect clears the kind.
    let update = action_of(&html, "update_service");
    let r = app
        .client
        .post(format!("{}{update}", app.url))
        .header("Origin", &app.origin)
        .header("Accept", "application/json")
        .form(&[
            ("service_id", id),
            ("f[name]", "jobs"),
            ("f[source]", "git"),
            ("f[git_url]", "https://example.com/jobs.git"),
            ("f[git_branch]", "main"),
            ("f[kind]", ""),
            ("f[runtime_version]", "3.12"),
            ("f[health]", "tcp"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let shown: Value = app
        .get(&format!("/api/v1/services/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["kind"], Value::Null);
    assert_eq!(shown["runtime_version"], "3.12");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_shows_its_build_plan_once_it_has_one() {
    let app = TestApp::start().await;
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap().to_string();
    let id = service(&app, &cluster).await;
    let r = app
        .post(&format!("/api/v1/services/{id}/deployments"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let dep: Value = r.json().await.unwrap();
    let dep = dep["deployment"]["id"].as_str().unwrap().to_string();
    let path = format!("/c/{cluster}/services/{id}");
    let read = || async {
        let html = app.get(&path).send().await.unwrap().text().await.unwrap();
        crate::guards::without_markers(&html)
    };
    assert!(!read().await.contains("build-plan"), "no plan, no block");

    // What dployrd's progress stores (see control's store_plans test for that path).
    let plan = [
        "runtime: node",
        "build: npm ci (package-lock.json is there)",
    ];
    let store = control::Store::open(&control::Store::sqlite_url(&app.data_dir))
        .await
        .unwrap();
    sqlx::query("UPDATE deployments SET plan = $1 WHERE id = $2")
        .bind(serde_json::to_string(&plan).unwrap())
        .bind(&dep)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let html = read().await;
    let at = html
        .find("data-testid=\"build-plan\"")
        .expect("the build plan block");
    assert!(
        html[at..].starts_with(
            "data-testid=\"build-plan\" class=\"build-plan\"><summary>Build plan</summary>\
             <pre>runtime: node\nbuild: npm ci (package-lock.json is there)</pre></details>"
        ),
        "{}",
        &html[at..at + 200]
    );
    let api: Value = app
        .get(&format!("/api/v1/deployments/{dep}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["plan"], json!(plan));
}
