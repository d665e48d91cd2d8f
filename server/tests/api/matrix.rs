//! The whole permission matrix over HTTP: every `/api/v1` route (and WebSocket upgrade), called
//! once by each role (Owner, Admin, Member, Guest), by an API token of each role, by a
//! non-member and by nobody; each answer is allowed, 403, 404 or 401 as the matrix says. Every
//! allowed mutation that succeeds writes exactly one audit event naming the actor (and the
//! token) and the target; a refused one writes none. The test fails when `rest/mod.rs` has a
//! route this table does not mention.

use std::collections::BTreeSet;

use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

use crate::support::{Fetch, PASSWORD, TestApp, websocket_upgrade};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Owner,
    Admin,
    Member,
    Guest,
}

pub(crate) const ALL: &[Who] = &[Who::Owner, Who::Admin, Who::Member, Who::Guest];
pub(crate) const STAFF: &[Who] = &[Who::Owner, Who::Admin, Who::Member];
pub(crate) const ADMINS: &[Who] = &[Who::Owner, Who::Admin];
pub(crate) const OWNERS: &[Who] = &[Who::Owner];

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone, signed in or not (sign-up, log-in, invitation links).
    Public,
    /// Any signed-in person, about themselves; API tokens only where `tokens` says so.
    Account { tokens: bool },
    /// Members of the object's cluster with one of these roles.
    Roles(&'static [Who]),
}

/// `(method, route as written in rest/mod.rs, rule)`.
const MATRIX: &[(&str, &str, Rule)] = &[
    ("GET", "/openapi.json", Rule::Public),
    ("POST", "/auth/signup", Rule::Public),
    ("POST", "/auth/login", Rule::Public),
    ("POST", "/auth/logout", Rule::Account { tokens: false }),
    ("POST", "/auth/password", Rule::Account { tokens: false }),
    ("GET", "/me", Rule::Account { tokens: true }),
    ("GET", "/clusters", Rule::Account { tokens: true }),
    ("POST", "/clusters", Rule::Account { tokens: false }),
    ("GET", "/clusters/{id}", Rule::Roles(ALL)),
    ("PATCH", "/clusters/{id}", Rule::Roles(ADMINS)),
    // Called with a wrong `confirm`, so the Owner's call fails (400) and the world survives;
    // clusters.rs deletes one for real.
    ("DELETE", "/clusters/{id}", Rule::Roles(OWNERS)),
    ("GET", "/clusters/{id}/instances", Rule::Roles(ALL)),
    ("POST", "/clusters/{id}/instances", Rule::Roles(ADMINS)),
    ("WS", "/clusters/{id}/instances/live", Rule::Roles(ALL)),
    ("DELETE", "/instances/{id}", Rule::Roles(ADMINS)),
    ("PATCH", "/instances/{id}", Rule::Roles(ADMINS)),
    // The instance is offline here, so allowed calls end 409 (and record nothing); the
    // gateway tests (tools.rs, traversal.rs) run them against a real dployrd.
    ("WS", "/instances/{id}/console", Rule::Roles(ADMINS)),
    ("WS", "/services/{id}/console", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/files", Rule::Roles(ADMINS)),
    ("DELETE", "/services/{id}/files", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/files/content", Rule::Roles(ADMINS)),
    ("PUT", "/services/{id}/files/content", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/files/archive", Rule::Roles(ADMINS)),
    ("POST", "/services/{id}/files/mkdir", Rule::Roles(ADMINS)),
    ("POST", "/services/{id}/files/rename", Rule::Roles(ADMINS)),
    ("GET", "/clusters/{id}/services", Rule::Roles(ALL)),
    ("POST", "/clusters/{id}/services", Rule::Roles(ADMINS)),
    ("WS", "/clusters/{id}/services/live", Rule::Roles(ALL)),
    ("WS", "/services/{id}/live", Rule::Roles(ALL)),
    ("GET", "/services/{id}", Rule::Roles(ALL)),
    ("PATCH", "/services/{id}", Rule::Roles(ADMINS)),
    ("DELETE", "/services/{id}", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/deployments", Rule::Roles(ALL)),
    ("POST", "/services/{id}/deployments", Rule::Roles(STAFF)),
    ("GET", "/clusters/{id}/events", Rule::Roles(ALL)),
    ("GET", "/clusters/{id}/members", Rule::Roles(STAFF)),
    (
        "PATCH",
        "/clusters/{id}/members/{user}",
        Rule::Roles(ADMINS),
    ),
    (
        "DELETE",
        "/clusters/{id}/members/{user}",
        Rule::Roles(ADMINS),
    ),
    ("GET", "/clusters/{id}/invites", Rule::Roles(ADMINS)),
    ("POST", "/clusters/{id}/invites", Rule::Roles(ADMINS)),
    (
        "DELETE",
        "/clusters/{id}/invites/{invite}",
        Rule::Roles(ADMINS),
    ),
    ("GET", "/invites/{token}", Rule::Public),
    ("POST", "/invites/{token}/accept", Rule::Public),
    ("GET", "/clusters/{id}/tokens", Rule::Roles(ADMINS)),
    ("POST", "/clusters/{id}/tokens", Rule::Roles(ADMINS)),
    (
        "DELETE",
        "/clusters/{id}/tokens/{token}",
        Rule::Roles(ADMINS),
    ),
    ("GET", "/services/{id}/env", Rule::Roles(STAFF)),
    ("POST", "/services/{id}/env/import", Rule::Roles(STAFF)),
    ("PUT", "/services/{id}/env/{key}", Rule::Roles(STAFF)),
    ("DELETE", "/services/{id}/env/{key}", Rule::Roles(STAFF)),
    ("GET", "/services/{id}/webhook", Rule::Roles(ADMINS)),
    ("POST", "/services/{id}/webhook", Rule::Roles(ADMINS)),
    // Each call finds a hook to switch off (`prepare` enables one first).
    ("DELETE", "/services/{id}/webhook", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/logs", Rule::Roles(STAFF)),
    ("GET", "/deployments/{id}/logs", Rule::Roles(STAFF)),
    ("POST", "/services/{id}/rollback", Rule::Roles(STAFF)),
    ("POST", "/services/{id}/{action}", Rule::Roles(STAFF)),
    ("GET", "/deployments/{id}", Rule::Roles(ALL)),
    ("POST", "/deployments/{id}/cancel", Rule::Roles(STAFF)),
];

/// The `(method, path)` pairs `rest/mod.rs` registers, read from its source.
fn registered_routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../../src/rest/mod.rs");
    let mut out = BTreeSet::new();
    for chunk in src.split(".route(").skip(1) {
        // `Routes::route` itself forwards `.route(path, methods)`: not a route.
        if !chunk.trim_start().starts_with('"') {
            continue;
        }
        let path = chunk.split('"').nth(1).unwrap().to_string();
        let handlers = chunk.split("\n        .").next().unwrap();
        for (method, needle) in [
            ("GET", "get("),
            ("POST", "post("),
            ("PUT", "put("),
            ("PATCH", "patch("),
            ("DELETE", "delete("),
        ] {
            if handlers.contains(needle) {
                out.insert((method.to_string(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_matrix_mentions_every_route_and_nothing_else() {
    let registered = registered_routes();
    assert!(registered.len() > 30, "parsed {registered:?}");
    let mentioned: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| {
            (
                if *m == "WS" { "GET" } else { m }.to_string(),
                p.to_string(),
            )
        })
        .collect();
    let missing: Vec<_> = registered.difference(&mentioned).collect();
    assert!(
        missing.is_empty(),
        "routes the matrix does not mention: {missing:?}"
    );
    let stale: Vec<_> = mentioned.difference(&registered).collect();
    assert!(stale.is_empty(), "matrix rows with no route: {stale:?}");
}

/// How a caller authenticates.
#[derive(Clone)]
pub(crate) enum Cred {
    /// A client with a session cookie.
    Session(Client),
    /// An API token (no cookie).
    Token(String),
    Nobody,
}

pub(crate) struct Caller {
    pub label: String,
    pub cred: Cred,
    /// The role it acts with in Ana's cluster; `None` for a non-member or nobody.
    pub role: Option<Who>,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
}

pub(crate) struct World {
    pub app: TestApp,
    pub ana: Client,
    pub cluster: String,
    pub instance: String,
    pub service: String,
    pub deployment: String,
    n: std::cell::Cell<u32>,
}

fn session_client() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

impl World {
    pub(crate) fn req(&self, cred: &Cred, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}/api/v1{path}", self.app.url);
        match cred {
            Cred::Session(c) => c.request(method, url).header("Origin", &self.app.origin),
            Cred::Token(t) => Client::new().request(method, url).bearer_auth(t),
            Cred::Nobody => Client::new()
                .request(method, url)
                .header("Origin", &self.app.origin),
        }
    }

    pub(crate) async fn ana(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self
            .req(&Cred::Session(self.ana.clone()), method, path)
            .json(&body)
            .sent()
            .await;
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    pub(crate) fn unique(&self, what: &str) -> String {
        self.n.set(self.n.get() + 1);
        format!("{what}{}", self.n.get())
    }

    /// A person who signed up through an invitation with `role`; their session client and id.
    pub(crate) async fn invited(&self, role: &str) -> (Client, String) {
        let email = format!("{}@example.com", self.unique("p"));
        let inv = self
            .ana(
                Method::POST,
                &format!("/clusters/{}/invites", self.cluster),
                json!({ "email": email, "role": role }),
            )
            .await;
        let token = inv["invite_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let client = session_client();
        let r = client
            .post(format!("{}/api/v1/invites/{token}/accept", self.app.url))
            .header("Origin", &self.app.origin)
            .json(&json!({ "email": email, "password": PASSWORD, "name": "Someone" }))
            .sent()
            .await;
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        (client, body["user"]["id"].as_str().unwrap().to_string())
    }

    pub(crate) async fn fresh_service(&self) -> String {
        let name = self.unique("svc-");
        let s = self
            .ana(
                Method::POST,
                &format!("/clusters/{}/services", self.cluster),
                json!({ "name": name, "instance_id": self.instance,
                        "source": {"git": {"url": "https://example.com/app.git"}} }),
            )
            .await;
        s["id"].as_str().unwrap().to_string()
    }

    /// The concrete path and body for one call of `route`, creating what it destroys.
    async fn prepare(&self, method: &str, route: &str) -> (String, Value) {
        let c = &self.cluster;
        let body = match (method, route) {
            ("PATCH", "/clusters/{id}") => json!({ "name": self.unique("Renamed ") }),
            ("POST", "/clusters/{id}/instances") => json!({ "name": self.unique("box-") }),
            ("POST", "/clusters/{id}/services") => json!({
                "name": self.unique("new-"), "instance_id": self.instance,
                "source": {"git": {"url": "https://example.com/app.git"}} }),
            ("PATCH", "/services/{id}") => json!({ "build_command": self.unique("make ") }),
            ("PATCH", "/instances/{id}") => json!({ "console_enabled": true }),
            ("POST", "/services/{id}/files/mkdir") => json!({ "path": "new" }),
            ("POST", "/services/{id}/files/rename") => json!({ "from": "a", "to": "b" }),
            ("POST", "/services/{id}/deployments") => json!({}),
            ("PATCH", "/clusters/{id}/members/{user}") => json!({ "role": "member" }),
            ("POST", "/clusters/{id}/invites") => {
                json!({ "email": format!("{}@example.com", self.unique("i")), "role": "member" })
            }
            ("POST", "/clusters/{id}/tokens") => {
                json!({ "name": self.unique("ci "), "role": "guest" })
            }
            ("POST", "/services/{id}/env/import") => json!({ "dotenv": "A=1\nB=2\n" }),
            ("PUT", "/services/{id}/env/{key}") => json!({ "value": "v", "secret": true }),
            ("POST", "/services/{id}/rollback") => json!({ "deployment_id": self.deployment }),
            _ => Value::Null,
        };
        let id = if route.starts_with("/clusters/{id}") {
            c.clone()
        } else if route.starts_with("/instances/") {
            let i = self
                .ana(
                    Method::POST,
                    &format!("/clusters/{c}/instances"),
                    json!({ "name": self.unique("gone-") }),
                )
                .await;
            i["instance"]["id"].as_str().unwrap().to_string()
        } else if route.starts_with("/deployments/") {
            self.deployment.clone()
        } else if method == "DELETE" && route == "/services/{id}" {
            self.fresh_service().await
        } else {
            self.service.clone()
        };
        if (method, route) == ("DELETE", "/services/{id}/webhook") {
            self.ana(Method::POST, &format!("/services/{id}/webhook"), json!({}))
                .await;
        }
        let mut path = route.replace("{id}", &id).replace("{action}", "restart");
        if (method, route) == ("DELETE", "/clusters/{id}") {
            path.push_str("?confirm=not-its-name");
        }
        if route.ends_with("/console") {
            path.push_str("?session=matrix-session-1");
        }
        if route.contains("/files") && method != "POST" {
            path.push_str("?path=app.js");
        }
        if path.contains("{user}") {
            let (_, user) = self.invited("guest").await;
            path = path.replace("{user}", &user);
        }
        if path.contains("{invite}") {
            let inv = self
                .ana(
                    Method::POST,
                    &format!("/clusters/{c}/invites"),
                    json!({ "email": format!("{}@example.com", self.unique("r")), "role": "guest" }),
                )
                .await;
            path = path.replace("{invite}", inv["invite"]["id"].as_str().unwrap());
        }
        if path.contains("{token}") {
            let t = self
                .ana(
                    Method::POST,
                    &format!("/clusters/{c}/tokens"),
                    json!({ "name": self.unique("old "), "role": "guest" }),
                )
                .await;
            path = path.replace("{token}", t["api_token"]["id"].as_str().unwrap());
        }
        if path.contains("{key}") {
            let key = self.unique("KEY_");
            if method == "DELETE" {
                self.ana(
                    Method::PUT,
                    &format!("/services/{}/env/{key}", self.service),
                    json!({ "value": "x" }),
                )
                .await;
            }
            path = path.replace("{key}", &key);
        }
        (path, body)
    }

    pub(crate) async fn event_count(&self) -> i64 {
        let store = control::Store::open(&control::Store::sqlite_url(&self.app.data_dir))
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        n
    }

    pub(crate) async fn newest_event(
        &self,
    ) -> (Option<String>, Option<String>, Option<String>, String) {
        let store = control::Store::open(&control::Store::sqlite_url(&self.app.data_dir))
            .await
            .unwrap();
        let row: (Option<String>, Option<String>, Option<String>, String) = sqlx::query_as(
            "SELECT actor_user_id, actor_token_id, target, action FROM events ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        store.close().await;
        row
    }
}

/// Ana's cluster with an instance, a service and a queued deployment. Sign-up is open so a
/// non-member (Ed) can have an account; everyone else joins by invitation.
pub(crate) async fn world() -> World {
    let app = TestApp::open().await;
    let ana = session_client();
    let r = ana
        .post(format!("{}/api/v1/auth/signup", app.url))
        .header("Origin", &app.origin)
        .json(&json!({ "email": "ana@example.com", "password": PASSWORD, "name": "Ana" }))
        .sent()
        .await;
    let body: Value = r.json().await.unwrap();
    let cluster = body["cluster"]["id"].as_str().unwrap().to_string();
    let mut w = World {
        app,
        ana,
        cluster,
        instance: String::new(),
        service: String::new(),
        deployment: String::new(),
        n: std::cell::Cell::new(0),
    };
    let i = w
        .ana(
            Method::POST,
            &format!("/clusters/{}/instances", w.cluster),
            json!({ "name": "web-1" }),
        )
        .await;
    w.instance = i["instance"]["id"].as_str().unwrap().to_string();
    w.service = w.fresh_service().await;
    let d = w
        .ana(
            Method::POST,
            &format!("/services/{}/deployments", w.service),
            json!({}),
        )
        .await;
    w.deployment = d["deployment"]["id"].as_str().unwrap().to_string();
    w
}

fn who_name(w: Who) -> &'static str {
    match w {
        Who::Owner => "owner",
        Who::Admin => "admin",
        Who::Member => "member",
        Who::Guest => "guest",
    }
}

pub(crate) async fn callers(w: &World) -> Vec<Caller> {
    let mut out = vec![Caller {
        label: "owner".into(),
        cred: Cred::Session(w.ana.clone()),
        role: Some(Who::Owner),
        user_id: Some(
            w.ana(Method::GET, "/me", Value::Null).await["user"]["id"]
                .as_str()
                .unwrap()
                .into(),
        ),
        token_id: None,
    }];
    for who in [Who::Admin, Who::Member, Who::Guest] {
        let (client, id) = w.invited(who_name(who)).await;
        out.push(Caller {
            label: who_name(who).into(),
            cred: Cred::Session(client),
            role: Some(who),
            user_id: Some(id),
            token_id: None,
        });
    }
    let ana_id = out[0].user_id.clone();
    for who in ALL {
        let t = w
            .ana(
                Method::POST,
                &format!("/clusters/{}/tokens", w.cluster),
                json!({ "name": format!("{} token", who_name(*who)), "role": who_name(*who) }),
            )
            .await;
        out.push(Caller {
            label: format!("{} token", who_name(*who)),
            cred: Cred::Token(t["token"].as_str().unwrap().into()),
            role: Some(*who),
            user_id: ana_id.clone(),
            token_id: Some(t["api_token"]["id"].as_str().unwrap().into()),
        });
    }
    // Ed has a cluster of his own and nothing in Ana's.
    let ed = session_client();
    ed.post(format!("{}/api/v1/auth/signup", w.app.url))
        .header("Origin", &w.app.origin)
        .json(&json!({ "email": "ed@example.com", "password": PASSWORD, "name": "Ed" }))
        .sent()
        .await;
    out.push(Caller {
        label: "non-member".into(),
        cred: Cred::Session(ed),
        role: None,
        user_id: None,
        token_id: None,
    });
    out.push(Caller {
        label: "nobody".into(),
        cred: Cred::Nobody,
        role: None,
        user_id: None,
        token_id: None,
    });
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_and_token_gets_exactly_what_the_matrix_says() {
    let w = world().await;
    let callers = callers(&w).await;
    let mut calls = 0;
    // Account routes: any session; API tokens read `me` and their cluster, and nothing more.
    for c in &callers {
        for (method, route, rule) in MATRIX {
            let Rule::Account { tokens } = rule else {
                continue;
            };
            if *route == "/auth/logout" || *route == "/auth/password" {
                // Signing out or changing a password would end the caller's session.
                if !matches!(c.cred, Cred::Token(_)) {
                    continue;
                }
            }
            let body = match *route {
                "/clusters" => json!({ "name": w.unique("Side ") }),
                "/auth/password" => {
                    json!({ "current_password": PASSWORD, "new_password": "another long password" })
                }
                _ => Value::Null,
            };
            let mut r = w.req(&c.cred, method.parse().unwrap(), route);
            if !body.is_null() {
                r = r.json(&body);
            }
            let status = r.sent().await.status().as_u16();
            let what = format!("{} {method} {route}", c.label);
            match &c.cred {
                Cred::Nobody => assert_eq!(status, 401, "{what}"),
                Cred::Token(_) if !tokens => assert_eq!(status, 403, "{what}"),
                _ => assert!((200..300).contains(&status), "{what}: {status}"),
            }
            calls += 1;
        }
    }
    for (method, route, rule) in MATRIX {
        let Rule::Roles(allowed) = rule else { continue };
        for c in &callers {
            let (path, body) = w.prepare(method, route).await;
            let before = w.event_count().await;
            let status = if *method == "WS" {
                websocket_upgrade(w.req(&c.cred, Method::GET, &path))
                    .sent()
                    .await
                    .status()
                    .as_u16()
            } else {
                let mut r = w.req(&c.cred, method.parse().unwrap(), &path);
                if !body.is_null() {
                    r = r.json(&body);
                }
                r.sent().await.status().as_u16()
            };
            calls += 1;
            let what = format!("{} {method} {path}", c.label);
            match (&c.cred, c.role) {
                (Cred::Nobody, _) => assert_eq!(status, 401, "{what}"),
                (_, None) => assert_eq!(status, 404, "{what}"),
                (_, Some(role)) if allowed.contains(&role) => {
                    assert!(![401, 403, 404].contains(&status), "{what}: {status}")
                }
                (_, Some(_)) => assert_eq!(status, 403, "{what}"),
            }
            let after = w.event_count().await;
            let mutating = !matches!(*method, "GET" | "WS");
            if mutating && (200..300).contains(&status) {
                assert_eq!(after - before, 1, "{what}: one event");
                let (actor, token, target, action) = w.newest_event().await;
                assert_eq!(actor, c.user_id, "{what}: {action} names the actor");
                assert_eq!(token, c.token_id, "{what}: {action} names the token");
                assert!(target.is_some(), "{what}: {action} names a target");
            } else if mutating {
                assert_eq!(
                    after, before,
                    "{what}: a refused or failed call records nothing"
                );
            }
        }
    }
    assert!(calls > 300, "{calls} calls");
    w.app.stop().await;
}
