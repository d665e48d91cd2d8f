//! The things the permission matrix is checked against: Ana's cluster with an instance, a
//! service and a deployment ([`world`]), and how each caller authenticates ([`Cred`]).

use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

use crate::support::{Fetch, PASSWORD, TestApp, link_token};

/// How a caller authenticates.
#[derive(Clone)]
pub(crate) enum Cred {
    /// A client with a session cookie.
    Session(Client),
    /// An API token (no cookie).
    Token(String),
    Nobody,
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

pub(super) fn session_client() -> Client {
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

    /// A webhook channel at a closed port (tests fail fast, with a recorded attempt).
    fn channel_body(&self) -> Value {
        let (name, url) = (self.unique("ch "), "http://127.0.0.1:9/hook");
        json!({ "name": name, "kind": "webhook", "url": url, "events": ["deploy.failed"] })
    }

    /// An OIDC binding of a repository of its own (never exchanged against here).
    fn binding_body(&self) -> Value {
        json!({ "provider": "github", "repository": self.unique("acme/app-"), "role": "member" })
    }

    /// A new thing Ana makes at `path` with `body`; the id at `pointer` in the answer.
    async fn made(&self, path: &str, body: Value, pointer: &str) -> String {
        let made = self.ana(Method::POST, path, body).await;
        made.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    }

    /// A new OIDC binding of the cluster (a repository no CI runs); its id.
    pub(crate) async fn fresh_binding(&self) -> String {
        let path = format!("/clusters/{}/oidc/bindings", self.cluster);
        self.made(&path, self.binding_body(), "/id").await
    }

    /// A new notification channel of the cluster (a webhook nobody listens to); its id.
    pub(crate) async fn fresh_channel(&self) -> String {
        let path = format!("/clusters/{}/notifications", self.cluster);
        self.made(&path, self.channel_body(), "/channel/id").await
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
        let token = link_token(inv["invite_url"].as_str().unwrap()).to_string();
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

    /// The id of a token made by someone who was an Admin then and is a Member now: the one
    /// kind of token both an Owner and an Admin may revoke (an Admin may not revoke an Owner's
    /// or another Admin's).
    pub(crate) async fn members_token(&self) -> String {
        let (client, user) = self.invited("admin").await;
        let r = client
            .post(format!(
                "{}/api/v1/clusters/{}/tokens",
                self.app.url, self.cluster
            ))
            .header("Origin", &self.app.origin)
            .json(&json!({ "name": self.unique("old "), "role": "guest" }))
            .sent()
            .await;
        assert_eq!(r.status(), 201);
        let t: Value = r.json().await.unwrap();
        self.ana(
            Method::PATCH,
            &format!("/clusters/{}/members/{user}", self.cluster),
            json!({ "role": "member" }),
        )
        .await;
        t["api_token"]["id"].as_str().unwrap().to_string()
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
    pub(crate) async fn prepare(&self, method: &str, route: &str) -> (String, Value) {
        let c = &self.cluster;
        let body = match (method, route) {
            ("PATCH", "/clusters/{id}") => json!({ "name": self.unique("Renamed ") }),
            ("PUT", "/clusters/{id}/require-2fa") => json!({ "required": false }),
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
            ("POST", "/clusters/{id}/notifications") => self.channel_body(),
            ("POST", "/clusters/{id}/oidc/bindings") => self.binding_body(),
            ("PATCH", "/clusters/{id}/notifications/{channel}") => {
                json!({ "name": self.unique("renamed ") })
            }
            ("POST", "/services/{id}/env/import") => json!({ "dotenv": "A=1\nB=2\n" }),
            ("PUT", "/services/{id}/env/{key}") => json!({ "value": "v", "secret": true }),
            ("POST", "/services/{id}/rollback") => json!({ "deployment_id": self.deployment }),
            ("POST", "/services/{id}/domains") => {
                json!({ "name": format!("{}.example.com", self.unique("add-")) })
            }
            ("PATCH", "/services/{id}/domains/{name}") => json!({ "hsts": true }),
            ("PUT", "/services/{id}/domains/{name}/certificate") => {
                json!({ "chain_pem": "not a certificate", "key_pem": "not a key" })
            }
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
            path = path.replace("{token}", &self.members_token().await);
        }
        if path.contains("{channel}") {
            path = path.replace("{channel}", &self.fresh_channel().await);
        }
        if path.contains("{binding}") {
            path = path.replace("{binding}", &self.fresh_binding().await);
        }
        if path.contains("{name}") {
            let name = format!("{}.example.com", self.unique("dom-"));
            self.ana(
                Method::POST,
                &format!("/services/{}/domains", self.service),
                json!({ "name": name }),
            )
            .await;
            path = path.replace("{name}", &name);
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
}

/// Ana's cluster with an instance, a service and a queued deployment. Sign-up is open so a
/// non-member (Ed) can have an account; everyone else joins by invitation.
pub(crate) async fn world() -> World {
    // Domain checks ask a DNS server of the test's own (holding no records), never the
    // network; it lives as long as the test process.
    let dns: &'static testkit::dns::DnsServer =
        Box::leak(Box::new(testkit::dns::DnsServer::start()));
    let app = TestApp::with(crate::support::Options {
        open_signup: true,
        dns_server: Some(dns.addr()),
        ..Default::default()
    })
    .await;
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
