//! Cursor pagination of the lists: `?limit=&cursor=` walks every item once, in a stable order,
//! and bad parameters are a 400 naming the field.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{Fetch, TestApp};

/// Follows `next_cursor` from the first page to the last; the ids in the order seen.
async fn walk(app: &TestApp, path: &str, items: &str, id: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut url = format!("{path}?limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app.get(&url).sent().await.json().await.unwrap();
        let got = page[items].as_array().unwrap();
        assert!(got.len() <= limit, "{page}");
        seen.extend(got.iter().map(|v| v[id].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return seen,
        }
    }
    panic!("more than 20 pages of {path}");
}

async fn all(app: &TestApp, path: &str, items: &str, id: &str) -> Vec<String> {
    let page: Value = app.get(path).sent().await.json().await.unwrap();
    assert!(page.get("next_cursor").is_none(), "{page}");
    page[items]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[id].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_by_cursor_without_gaps_or_duplicates() {
    let app = TestApp::start().await;
    let cluster = &app.ana_cluster().await;
    let mut instance = String::new();
    for n in 0..5 {
        let made: Value = app
            .post(&format!("/api/v1/clusters/{cluster}/instances"))
            .json(&json!({ "name": format!("box-{n}") }))
            .fetch()
            .await;
        instance = made["instance"]["id"].as_str().unwrap().to_string();
        assert_eq!(
            app.post(&format!("/api/v1/clusters/{cluster}/tokens"))
                .json(&json!({"name": format!("ci-{n}"), "role": "member"}))
                .code()
                .await,
            201
        );
    }
    let svc: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&json!({
            "name": "api",
            "instance_id": instance,
            "source": {"git": {"url": "https://example.com/api.git"}},
        }))
        .fetch()
        .await;
    let svc = svc["id"].as_str().unwrap();
    for _ in 0..5 {
        assert_eq!(
            app.post(&format!("/api/v1/services/{svc}/deployments"))
                .code()
                .await,
            202
        );
    }

    for (path, items, id) in [
        (
            format!("/api/v1/clusters/{cluster}/instances"),
            "instances",
            "id",
        ),
        (format!("/api/v1/clusters/{cluster}/tokens"), "tokens", "id"),
        (
            format!("/api/v1/services/{svc}/deployments"),
            "deployments",
            "id",
        ),
    ] {
        let everything = all(&app, &path, items, id).await;
        assert_eq!(everything.len(), 5, "{path}");
        let paged = walk(&app, &path, items, id, 2).await;
        assert_eq!(paged, everything, "{path}: same items, same order");
        let unique: BTreeSet<_> = paged.iter().collect();
        assert_eq!(unique.len(), 5, "{path}");
        // A page size that divides the list exactly still ends with no cursor.
        assert_eq!(walk(&app, &path, items, id, 5).await, everything);
    }

    let path = format!("/api/v1/clusters/{cluster}/instances");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=many", "limit"),
        ("cursor=not-ours", "cursor"),
    ] {
        let (status, err) = app.get(&format!("{path}?{query}")).refused().await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some(field)),
            "{query}"
        );
    }
    assert_eq!(
        app.get(&format!(
            "/api/v1/services/{svc}/deployments?cursor=bm8tc2VwYXJhdG9y"
        ))
        .refused_with("field")
        .await,
        (400, json!("cursor"))
    );
}
