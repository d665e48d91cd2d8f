//! A service's env vars over HTTP: `.env` import is all or nothing, and secret values are
//! written but never read back.

use serde_json::{Value, json};

use super::team;
use crate::support::{Fetch, column};

#[tokio::test]
async fn env_import_is_all_or_nothing_and_secrets_never_come_back() {
    let t = team().await;
    let inst: Value = t
        .app
        .post(&format!("/api/v1/clusters/{}/instances", t.cluster))
        .json(&json!({ "name": "web-1" }))
        .fetch()
        .await;
    let svc: Value = t
        .app
        .post(&format!("/api/v1/clusters/{}/services", t.cluster))
        .json(
            &json!({ "name": "api", "instance_id": inst["instance"]["id"],
                       "source": {"git": {"url": "https://example.com/a.git"}},
                       "env": {"FROM_CREATE": "1"} }),
        )
        .fetch()
        .await;
    let id = svc["id"].as_str().unwrap();
    assert_eq!(
        svc["env_changed"], false,
        "nothing to redeploy before the first deploy"
    );
    let import = |text: &str, secret: bool| {
        t.app
            .post(&format!("/api/v1/services/{id}/env/import"))
            .json(&json!({ "dotenv": text, "secret": secret }))
    };
    // One bad name: nothing is imported.
    assert_eq!(import("GOOD=1\n1BAD=2\n", false).code().await, 400);
    let r = import("DB_PASSWORD=\"p@ss word\"\nexport API_KEY='k-123'\n", true)
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    let keys = column(&list["vars"], "key");
    assert_eq!(keys, ["API_KEY", "DB_PASSWORD", "FROM_CREATE"]);
    assert!(!list.to_string().contains("p@ss word") && !list.to_string().contains("k-123"));
    assert_eq!(list["changed_since_deploy"], true);
    // A plain value overwrites a secret of the same name and is shown; delete removes it.
    assert_eq!(
        t.app
            .put(&format!("/api/v1/services/{id}/env/API_KEY"))
            .json(&json!({ "value": "public" }))
            .code()
            .await,
        204
    );
    let r = t
        .app
        .delete(&format!("/api/v1/services/{id}/env/DB_PASSWORD"))
        .sent()
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        t.app
            .delete(&format!("/api/v1/services/{id}/env/DB_PASSWORD"))
            .code()
            .await,
        404
    );
    let list: Value = t
        .app
        .get(&format!("/api/v1/services/{id}/env"))
        .fetch()
        .await;
    assert_eq!(list["vars"][0]["value"], "public");
    assert_eq!(list["vars"][0]["secret"], false);
    assert_eq!(list["vars"].as_array().unwrap().len(), 2);
    for (key, body) in [
        ("PORT", json!({ "value": "1" })),
        ("lower-case", json!({ "value": "1" })),
        ("BIG", json!({ "value": "x".repeat(33 * 1024) })),
    ] {
        assert_eq!(
            t.app
                .put(&format!("/api/v1/services/{id}/env/{key}"))
                .json(&body)
                .code()
                .await,
            400,
            "{key}"
        );
    }
    t.app.stop().await;
}
