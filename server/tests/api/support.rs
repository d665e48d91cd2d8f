//! [`TestApp`]: a real Base on 127.0.0.1:0 with a fresh data dir, and a typed client that
//! speaks to it (sign-up, instances, services, deployments, invitations), so each test states
//! only what differs.

use std::time::Duration;

use proto::api::{CreateInstanceResponse, CreatedInvite, Deployment, Service, SignupResponse};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use server::Config;
use tokio::sync::oneshot;

// Beside this file in both test binaries (`gateway` includes this one by `#[path]`).
#[path = "support/helpers.rs"]
mod helpers;
pub use helpers::*;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub url: String,
    pub data_dir: std::path::PathBuf,
    pub origin: String,
    pub client: Client,
    config: Config,
    gateway_addr: std::net::SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

#[derive(Default)]
pub struct Options {
    pub open_signup: bool,
    pub public_url: Option<&'static str>,
    pub local_agent: bool,
    /// `DPLOYR_SMTP_URL`.
    pub smtp_url: Option<String>,
    /// `DPLOYR_UPLOAD_MAX_BYTES` (default 1 GiB).
    pub upload_max_bytes: Option<u64>,
    /// `DPLOYR_CONSOLE_IDLE_SECS` (default 1800).
    pub console_idle_secs: Option<u32>,
    /// `DPLOYR_SHUTDOWN_DRAIN_SECS` (default 10).
    pub shutdown_drain_secs: Option<u64>,
    /// `DPLOYR_AGENT_BIN` (default: the dployrd beside dployr-server).
    pub agent_bin: Option<std::path::PathBuf>,
    /// `DPLOYR_TRUST_PROXY`: a proxy on loopback (the test client) may forward addresses.
    pub trust_proxy: bool,
    /// `DPLOYR_DNS_SERVER`: where domain verification asks (a test's own DNS server).
    pub dns_server: Option<std::net::SocketAddr>,
    /// `DPLOYR_OFFLINE_GRACE_SECS` (default 30).
    pub offline_grace_secs: Option<u64>,
    /// `DPLOYR_NOTIFY_RETRY_MS` (default 10 000).
    pub notify_retry_ms: Option<u64>,
    /// `DPLOYR_OIDC_HTTP_LOOPBACK`: trust a test's own OIDC issuer on `http://127.0.0.1`.
    pub oidc_http_loopback: bool,
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::with(Options::default()).await
    }

    /// With open sign-up, so several people can have accounts without invitations.
    pub async fn open() -> TestApp {
        Self::with(Options {
            open_signup: true,
            ..Options::default()
        })
        .await
    }

    pub async fn with(opts: Options) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        // Base's data dir one level down, so the local agent's `<data dir>-agent` beside it is
        // inside the temp dir too.
        let data_dir = dir.path().join("base");
        let mut config = Config::for_data_dir(data_dir.clone());
        config.open_signup = opts.open_signup;
        config.local_agent = opts.local_agent;
        config.trust_proxy = opts.trust_proxy;
        config.dns_server = opts.dns_server;
        config.oidc_http_loopback = opts.oidc_http_loopback;
        config.smtp_url = opts.smtp_url.clone();
        if let Some(cap) = opts.upload_max_bytes {
            config.upload_max_bytes = cap;
        }
        if let Some(idle) = opts.console_idle_secs {
            config.console_idle_secs = idle;
        }
        if let Some(grace) = opts.offline_grace_secs {
            config.offline_grace_secs = grace;
        }
        if let Some(retry) = opts.notify_retry_ms {
            config.notify_retry_ms = retry;
        }
        if let Some(drain) = opts.shutdown_drain_secs {
            config.shutdown_drain_secs = drain;
        }
        // The dployrd beside dployr-server in the target dir (built by `cargo test --workspace`).
        config.agent_bin = Some(opts.agent_bin.clone().unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_BIN_EXE_dployr-server")).with_file_name("dployrd")
        }));
        config.public_url = opts.public_url.map(|u| u.parse().unwrap());
        let origin = match opts.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{addr}"),
        };
        let gateway = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let gateway_addr = gateway.local_addr().unwrap();
        let listeners = server::Listeners {
            http: listener,
            gateway,
            plain: None,
        };
        // A hung request fails the test instead of hanging the whole run.
        let client = Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut app = TestApp {
            url: format!("http://{addr}"),
            data_dir,
            origin,
            client,
            config,
            gateway_addr,
            shutdown: None,
            handle: None,
            _dir: dir,
        };
        app.serve(listeners).await;
        app
    }

    /// Runs Base on `listeners` in a task and waits until it answers.
    async fn serve(&mut self, listeners: server::Listeners) {
        let (tx, rx) = oneshot::channel::<()>();
        self.handle = Some(tokio::spawn(server::run(
            self.config.clone(),
            listeners,
            async {
                let _ = rx.await;
            },
        )));
        self.shutdown = Some(tx);
        self.wait_healthy().await;
    }

    /// Tells Base to stop and waits for `run` to return (Ok) within 20 s.
    async fn halt(&mut self) {
        self.shutdown.take().unwrap().send(()).ok();
        let handle = self.handle.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), handle)
            .await
            .expect("server stops within 20 s")
            .expect("server task")
            .expect("server returns Ok");
    }

    async fn wait_healthy(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let r = self
                .client
                .get(format!("{}/healthz", self.url))
                .send()
                .await;
            if r.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server did not become healthy"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }

    /// A state-changing request from Base's own origin, as a browser on the dashboard sends it.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.url))
            .header("Origin", &self.origin)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client
            .delete(format!("{}{path}", self.url))
            .header("Origin", &self.origin)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.client
            .patch(format!("{}{path}", self.url))
            .header("Origin", &self.origin)
    }

    pub async fn signup(&self, email: &str) -> Response {
        self.post("/api/v1/auth/signup")
            .json(&json!({ "email": email, "password": PASSWORD, "name": "Ana Lopez" }))
            .send()
            .await
            .unwrap()
    }

    /// Signs `email` up, which must succeed: the first person (anyone on an open Base) becomes
    /// the Owner of a new cluster.
    pub async fn sign_up(&self, email: &str) -> SignupResponse {
        let r = self.signup(email).await;
        assert_eq!(r.status(), 201, "sign-up of {email}");
        r.json().await.unwrap()
    }

    /// Ana signs up; her new cluster's id.
    pub async fn ana_cluster(&self) -> String {
        self.sign_up("ana@example.com").await.cluster.id
    }

    /// Adds an instance named `name` to `cluster` (201).
    pub async fn create_instance(&self, cluster: &str, name: &str) -> CreateInstanceResponse {
        let r = self
            .post(&format!("/api/v1/clusters/{cluster}/instances"))
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "instance {name}");
        r.json().await.unwrap()
    }

    /// [`TestApp::create_instance`], just its id.
    pub async fn instance(&self, cluster: &str, name: &str) -> String {
        self.create_instance(cluster, name).await.instance.id
    }

    /// Creates the service `spec` (a `CreateServiceRequest` as JSON) in `cluster` (201).
    pub async fn create_service(&self, cluster: &str, spec: &Value) -> Service {
        let r = self
            .post(&format!("/api/v1/clusters/{cluster}/services"))
            .json(spec)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "service {spec}");
        r.json().await.unwrap()
    }

    /// A new instance `web-1` in `cluster` running the service `spec` with its `instance_id`
    /// filled in; the service's id.
    pub async fn service_on_new_instance(&self, cluster: &str, mut spec: Value) -> String {
        spec["instance_id"] = json!(self.instance(cluster, "web-1").await);
        self.create_service(cluster, &spec).await.id
    }

    /// Starts a deployment of `service` from its branch (202).
    pub async fn deploy(&self, service: &str) -> Deployment {
        let r = self
            .post(&format!("/api/v1/services/{service}/deployments"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "deploy {service}");
        let accepted: Value = r.json().await.unwrap();
        serde_json::from_value(accepted["deployment"].clone()).unwrap()
    }

    /// Invites `email` into `cluster` as `role`; the link's token and the whole answer.
    pub async fn invite(&self, cluster: &str, email: &str, role: &str) -> (String, CreatedInvite) {
        let r = self
            .post(&format!("/api/v1/clusters/{cluster}/invites"))
            .json(&json!({ "email": email, "role": role }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "invite {email}");
        let made: CreatedInvite = r.json().await.unwrap();
        let token = link_token(&made.invite_url).to_string();
        (token, made)
    }

    /// `POST /invites/{token}/accept` signing up `email` (named `name`) from a new client that
    /// keeps its cookies; that client and the answer.
    pub async fn accept_signup(&self, token: &str, email: &str, name: &str) -> (Client, Response) {
        let path = format!("/api/v1/invites/{token}/accept");
        self.new_account(&path, email, name).await
    }

    /// Signs `email` up from a new client (named `name`); that person's session cookie.
    pub async fn stranger(&self, email: &str, name: &str) -> String {
        let (_, r) = self.new_account("/api/v1/auth/signup", email, name).await;
        assert_eq!(r.status(), 201, "sign-up of {email}");
        session_cookie(&r)
    }

    /// Posts a new account's details to `path` from a new client that keeps its cookies.
    async fn new_account(&self, path: &str, email: &str, name: &str) -> (Client, Response) {
        let client = Client::builder().cookie_store(true).build().unwrap();
        let r = client
            .post(format!("{}{path}", self.url))
            .header("Origin", &self.origin)
            .json(&json!({ "email": email, "password": PASSWORD, "name": name }))
            .send()
            .await
            .unwrap();
        (client, r)
    }

    /// The status of a WebSocket upgrade request for `path` from Base's origin with `cookie`
    /// (no socket when refused).
    pub async fn upgrade_status(&self, path: &str, cookie: Option<&str>) -> u16 {
        let mut r = websocket_upgrade(Client::new().get(format!("{}{path}", self.url)))
            .header("Origin", &self.origin);
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        r.send().await.unwrap().status().as_u16()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/v1/auth/login")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Stops the server, runs `between` on its config (data dir untouched), and starts it
    /// again on the same addresses; the client keeps its cookies.
    pub async fn restart<F, Fut>(&mut self, between: F)
    where
        F: FnOnce(Config) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        self.halt().await;
        between(self.config.clone()).await;
        let http = tokio::net::TcpListener::bind(self.url.trim_start_matches("http://"))
            .await
            .expect("bind the same address again");
        let gateway = tokio::net::TcpListener::bind(self.gateway_addr)
            .await
            .expect("bind the same gateway address again");
        self.serve(server::Listeners {
            http,
            gateway,
            plain: None,
        })
        .await;
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.client
            .put(format!("{}{path}", self.url))
            .header("Origin", &self.origin)
    }

    /// Stops the server gracefully and waits for it to finish.
    pub async fn stop(mut self) {
        self.halt().await;
    }
}
