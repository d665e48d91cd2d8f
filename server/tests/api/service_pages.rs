//! The Services pages as the server renders them for each role, and their server functions
//! refusing what the role may not do even when called directly (the pages only hide buttons).

use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, ana_and_bo};

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let mut r = reqwest::Client::new()
        .get(format!("{}{path}", app.url))
        .header("Accept", "text/html");
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    let r = r.sent().await;
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
    let nginx = json!({ "name": "api", "source": {"image": "nginx:1"} });
    app.service_on_new_instance(cluster, nginx).await
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
            .fetch_text()
            .await;
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
            .fetch()
            .await;
        let expected = usize::from(role == "member");
        assert_eq!(
            deployments["deployments"].as_array().unwrap().len(),
            expected
        );
        let shown: Value = app.get(&format!("/api/v1/services/{id}")).fetch().await;
        assert_eq!(shown["name"], "api");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_form_shows_and_saves_kind_and_runtime_version() {
    let app = TestApp::start().await;
    let cluster = &app.ana_cluster().await;
    let worker = json!({
        "name": "jobs",
        "source": {"git": {"url": "https://example.com/jobs.git"}},
        "kind": "worker", "runtime_version": "20",
    });
    let id = &app.service_on_new_instance(cluster, worker).await;
    let html = app
        .get(&format!("/c/{cluster}/services/{id}"))
        .fetch_text()
        .await;
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
            ("service_id", id.as_str()),
            ("f[name]", "jobs"),
            ("f[source]", "git"),
            ("f[git_url]", "https://example.com/jobs.git"),
            ("f[git_branch]", "main"),
            ("f[kind]", ""),
            ("f[runtime_version]", "3.12"),
            ("f[health]", "tcp"),
        ])
        .sent()
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let shown: Value = app.get(&format!("/api/v1/services/{id}")).fetch().await;
    assert_eq!(shown["kind"], Value::Null);
    assert_eq!(shown["runtime_version"], "3.12");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_shows_its_build_plan_once_it_has_one() {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    let id = service(&app, &cluster).await;
    let dep = app.deploy(&id).await.id;
    let path = format!("/c/{cluster}/services/{id}");
    let read = || async {
        let html = app.get(&path).sent().await.text().await.unwrap();
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
    let api: Value = app.get(&format!("/api/v1/deployments/{dep}")).fetch().await;
    assert_eq!(api["plan"], json!(plan));
}
