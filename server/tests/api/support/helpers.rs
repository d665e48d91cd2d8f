//! What tests do around a [`TestApp`](super::TestApp): send a request and read its answer
//! ([`Fetch`], [`error_of`], cookies, [`column`]), and the people and services many tests begin
//! with ([`ana_and_bo`], [`node_service`], [`git_service`]).

use reqwest::{Client, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::TestApp;

/// The token at the end of an invitation link (`…/invite/<token>`).
pub fn link_token(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

/// The `field` text of each item of the JSON array `items` (`column(&list["clusters"], "name")`).
pub fn column<'a>(items: &'a Value, field: &str) -> Vec<&'a str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

/// The `{"error":{…}}` body of a failed response, with its status.
pub async fn error_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("error bodies are JSON");
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{body}"
    );
    (status, body["error"].clone())
}

/// The `Set-Cookie` header of a response.
pub fn set_cookie(r: &Response) -> String {
    r.headers()
        .get("set-cookie")
        .expect("Set-Cookie")
        .to_str()
        .unwrap()
        .to_string()
}

/// The `name=value` part of a response's `Set-Cookie`, to send back as `Cookie`.
pub fn session_cookie(r: &Response) -> String {
    set_cookie(r).split(';').next().unwrap().to_string()
}

/// Ana signs up (Owner of a new cluster), Bo signs up too (his own cluster: the Base must have
/// open sign-up) and joins Ana's cluster as `role` through her invitation; returns Ana's
/// cluster and Bo's session cookie.
pub async fn ana_and_bo(app: &TestApp, role: &str) -> (String, String) {
    let cluster = app.ana_cluster().await;
    let bo = app.stranger("bo@example.com", "Bo").await;
    let (token, _) = app.invite(&cluster, "bo@example.com", role).await;
    let joined = Client::new()
        .post(format!("{}/api/v1/invites/{token}/accept", app.url))
        .header("Origin", &app.origin)
        .header("Cookie", &bo)
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200, "Bo joins as {role}");
    (cluster, bo)
}

/// A Node service named `api` on `instance`: git source, env, health check and a domain.
pub fn node_service(instance: &str) -> Value {
    json!({
        "name": "api",
        "instance_id": instance,
        "source": {"git": {"url": "https://example.com/api.git", "branch": "main"}},
        "runtime": "node",
        "env": {"NODE_ENV": "production"},
        "health_check": {"http": {"path": "/healthz"}, "retries": 5},
        "domains": ["api.example.com"]
    })
}

/// The least service: `name` from a git URL, on `instance`.
pub fn git_service(name: &str, instance: &str) -> Value {
    json!({
        "name": name,
        "instance_id": instance,
        "source": {"git": {"url": "https://example.com/api.git"}}
    })
}

/// `r` as a WebSocket upgrade request (with a fixed key), for checking who is refused before
/// the upgrade.
pub fn websocket_upgrade(r: RequestBuilder) -> RequestBuilder {
    r.header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
}

/// Sends a request and reads its answer in one step, for the many places that want only that.
pub trait Fetch {
    /// Sends the request; one that cannot be sent at all fails the test.
    fn sent(self) -> impl std::future::Future<Output = Response>;
    /// Sends the request and reads the JSON body as `T`, whatever the status.
    fn fetch<T: DeserializeOwned>(self) -> impl std::future::Future<Output = T>;
    /// Sends the request and reads the body as text, whatever the status.
    fn fetch_text(self) -> impl std::future::Future<Output = String>;
    /// Sends the request and gives only its status, for the checks that want nothing else.
    fn code(self) -> impl std::future::Future<Output = u16>;
    /// Sends a request that must fail and reads its status and `{"error":{…}}` ([`error_of`]).
    fn refused(self) -> impl std::future::Future<Output = (u16, Value)>;
    /// Sends a request that must fail: its status and the error's `key` (`"code"`, `"field"`).
    fn refused_with(self, key: &str) -> impl std::future::Future<Output = (u16, Value)>;
}

impl Fetch for RequestBuilder {
    async fn sent(self) -> Response {
        self.send().await.unwrap()
    }

    async fn fetch<T: DeserializeOwned>(self) -> T {
        self.send().await.unwrap().json().await.unwrap()
    }

    async fn fetch_text(self) -> String {
        self.send().await.unwrap().text().await.unwrap()
    }

    async fn code(self) -> u16 {
        self.send().await.unwrap().status().as_u16()
    }

    async fn refused(self) -> (u16, Value) {
        error_of(self.send().await.unwrap()).await
    }

    async fn refused_with(self, key: &str) -> (u16, Value) {
        let (status, err) = self.refused().await;
        (status, err[key].clone())
    }
}
