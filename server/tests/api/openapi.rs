//! `GET /api/v1/openapi.json`: every route the router has is in the document with exactly the
//! methods the router answers, and the document's shared parts (errors, security) are there.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::support::{Fetch, TestApp};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `/services/{id}/env/{key}` → `/services/x/env/x`: any value reaches the route.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// The methods the router answers on `path`: axum's 405 to an OPTIONS request lists them.
async fn routed_methods(app: &TestApp, path: &str) -> BTreeSet<String> {
    let url = format!("{}/api/v1{}", app.url, concrete(path));
    let res = app.client.request(Method::OPTIONS, &url).sent().await;
    assert_eq!(res.status(), 405, "OPTIONS {path}");
    let allow = res
        .headers()
        .get("allow")
        .unwrap_or_else(|| panic!("405 without Allow on {path}"))
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    allow
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| METHODS.contains(&m.as_str()))
        .collect()
}

#[tokio::test]
async fn every_route_is_in_the_openapi_document_with_its_methods() {
    let app = TestApp::start().await;
    let res = app.get("/api/v1/openapi.json").sent().await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    let paths = doc["paths"].as_object().expect("paths");

    let routes = server::rest::route_paths();
    assert!(routes.len() > 40, "{} routes", routes.len());
    for path in &routes {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is routed but not in openapi.json"));
        let documented: BTreeSet<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_string())
            .collect();
        assert_eq!(
            documented,
            routed_methods(&app, path).await,
            "methods of {path}: documented vs routed"
        );
    }
    for path in paths.keys() {
        assert!(
            routes.contains(&path.as_str()),
            "{path} is documented but not routed"
        );
    }
}

#[tokio::test]
async fn the_document_describes_errors_auth_and_patch_semantics() {
    let app = TestApp::start().await;
    let doc: Value = app.get("/api/v1/openapi.json").fetch().await;
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "dployr_session");

    // Every operation answers errors in the one shape.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            if path == "/openapi.json" {
                continue;
            }
            let not_found = &op["responses"]["404"]["$ref"];
            assert_eq!(not_found, "#/components/responses/Error", "{m} {path}");
        }
    }
    let error = &doc["components"]["schemas"]["ErrorDetail"];
    let required: Vec<&str> = error["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["code", "message"]);

    // Sign-up and log-in need no credentials; the rest do (the document's default).
    let signup = &doc["paths"]["/auth/signup"]["post"];
    assert_eq!(signup["security"], serde_json::json!([{}]));
    assert!(doc["security"].as_array().unwrap().len() == 2);

    // PATCH bodies: `null` clears an optional setting, unknown fields are refused.
    let patch = &doc["components"]["schemas"]["UpdateServiceRequest"];
    assert_eq!(patch["additionalProperties"], false);
    let port = patch["properties"]["port"].to_string();
    assert!(port.contains("null"), "port must be nullable: {port}");
}
