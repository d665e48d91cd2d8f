//! H1's reproduction from docs/security.md over HTTP: a Member's token cannot set the env names
//! that make a runtime load code (`NODE_OPTIONS`, `BASH_ENV`, `LD_PRELOAD`…) nor deploy a
//! pull request's ref; an Owner can set the same name.

use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};

use super::team;
use crate::support::{Fetch, column};

#[tokio::test]
async fn h1_member_env_cannot_run_code_as_root() {
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
                       "source": {"git": {"url": "https://example.com/a.git"}} }),
        )
        .fetch()
        .await;
    let id = svc["id"].as_str().unwrap();
    let (member, _) = t.token("member", Some(1)).await;
    let as_member = |method: reqwest::Method, tail: &str| -> RequestBuilder {
        Client::new()
            .request(method, format!("{}/api/v1/services/{id}{tail}", t.app.url))
            .bearer_auth(&member)
    };
    // The audit's payload: a data: URL module preloaded by NODE_OPTIONS.
    let payload =
        "--import=data:text/javascript;base64,aW1wb3J0e2V4ZWNTeW5jfWZyb20iY2hpbGRfcHJvY2VzcyI7";
    for (name, value) in [
        ("NODE_OPTIONS", payload),
        ("BASH_ENV", "$(id>&2)"),
        ("ld_preload", "/tmp/x.so"),
        ("PERL5OPT", "-d"),
    ] {
        let r = as_member(reqwest::Method::PUT, &format!("/env/{name}"))
            .json(&json!({ "value": value }))
            .sent()
            .await;
        assert_eq!(r.status(), 403, "{name}");
        let body = r.text().await.unwrap();
        assert!(body.contains(name), "the refusal names {name}: {body}");
    }
    let import = as_member(reqwest::Method::POST, "/env/import")
        .json(&json!({ "dotenv": "GREETING=hi\nPYTHONSTARTUP=/tmp/x.py\n", "secret": true }))
        .sent()
        .await;
    assert_eq!(import.status(), 403, "a secret import is refused too");
    let plain = as_member(reqwest::Method::PUT, "/env/GREETING")
        .json(&json!({ "value": "hi" }))
        .sent()
        .await;
    assert_eq!(plain.status(), 204, "ordinary names stay a Member's");
    let pull = as_member(reqwest::Method::POST, "/deployments")
        .json(&json!({ "ref": "refs/pull/1/head" }))
        .sent()
        .await;
    assert_eq!(pull.status(), 400, "a pull request's ref is not deployable");
    let env: Value = t
        .app
        .get(&format!("/api/v1/services/{id}/env"))
        .fetch()
        .await;
    let names = column(&env["vars"], "key");
    assert!(!names.contains(&"PYTHONSTARTUP"), "{env}");
    // The Owner may: the name is not banned, only kept from Members.
    let owner = t
        .app
        .put(&format!("/api/v1/services/{id}/env/NODE_OPTIONS"))
        .json(&json!({ "value": "--max-old-space-size=256" }))
        .code()
        .await;
    assert_eq!(owner, 204);
}
