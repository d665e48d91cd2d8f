//! The events log over HTTP: filters, cursor pages, and the CSV and NDJSON exports.

use serde_json::{Value, json};

use super::team;
use crate::support::Fetch;

#[tokio::test]
async fn events_filter_page_by_cursor_and_export_as_csv_and_ndjson() {
    let t = team().await;
    for i in 0..5 {
        assert_eq!(
            t.app
                .patch(&format!("/api/v1/clusters/{}", t.cluster))
                .json(&json!({ "name": format!("Name {i}") }))
                .code()
                .await,
            200
        );
    }
    t.invite("bo@example.com", "guest").await;
    let get = |q: String| {
        let app = &t.app;
        let path = format!("/api/v1/clusters/{}/events?{q}", t.cluster);
        async move { app.get(&path).sent().await }
    };
    let page: Value = get("action=cluster.rename&limit=2".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    assert!(page["events"][0]["details"].to_string().contains("Name 4"));
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = get(format!("action=cluster.rename&limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    // The cursor's old name still works.
    let old: Value = get(format!("action=cluster.rename&limit=2&before={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old, next);
    assert!(next["events"][0]["details"].to_string().contains("Name 2"));
    let prefixed: Value = get("action=member.".into()).await.json().await.unwrap();
    assert_eq!(prefixed["events"][0]["action"], "member.invite");
    assert!(prefixed["next_cursor"].is_null());
    let mine: Value = get(format!("actor={}&limit=500", t.ana_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["events"].as_array().unwrap().len(),
        7,
        "signup's cluster.create, 5 renames, 1 invite"
    );
    let csv = get("format=csv".into()).await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("created_at,action,target"));
    assert_eq!(csv.lines().count(), 8);
    let nd = get("format=ndjson&action=cluster.rename".into())
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(get("format=xml".into()).await.status(), 400);
    t.app.stop().await;
}
