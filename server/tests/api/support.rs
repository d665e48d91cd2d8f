//! [`TestApp`]: a real Base on 127.0.0.1:0 with a fresh data dir, and a client that speaks to it.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use server::Config;
use tokio::sync::oneshot;

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
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::with(Options {
            open_signup: false,
            public_url: None,
            ..Options::default()
        })
        .await
    }

    pub async fn open() -> TestApp {
        Self::with(Options {
            open_signup: true,
            public_url: None,
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
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        config.open_signup = opts.open_signup;
        config.local_agent = opts.local_agent;
        config.smtp_url = opts.smtp_url.clone();
        if let Some(cap) = opts.upload_max_bytes {
            config.upload_max_bytes = cap;
        }
        if let Some(idle) = opts.console_idle_secs {
            config.console_idle_secs = idle;
        }
        // The dployrd beside dployr-server in the target dir (built by `cargo test --workspace`).
        config.agent_bin = Some(
            std::path::Path::new(env!("CARGO_BIN_EXE_dployr-server")).with_file_name("dployrd"),
        );
        config.public_url = opts.public_url.map(|u| u.parse().unwrap());
        let origin = match opts.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{addr}"),
        };
        let (tx, rx) = oneshot::channel::<()>();
        let gateway = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let gateway_addr = gateway.local_addr().unwrap();
        let listeners = server::Listeners {
            http: listener,
            gateway,
        };
        let handle = tokio::spawn(server::run(config.clone(), listeners, async {
            let _ = rx.await;
        }));
        // A hung request fails the test instead of hanging the whole run.
        let client = Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let app = TestApp {
            url: format!("http://{addr}"),
            data_dir: dir.path().to_path_buf(),
            origin,
            client,
            config,
            gateway_addr,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
        };
        app.wait_healthy().await;
        app
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
        self.shutdown.take().unwrap().send(()).ok();
        let handle = self.handle.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), handle)
            .await
            .expect("server stops within 20 s")
            .expect("server task")
            .expect("server returns Ok");
        between(self.config.clone()).await;
        let http = tokio::net::TcpListener::bind(self.url.trim_start_matches("http://"))
            .await
            .expect("bind the same address again");
        let gateway = tokio::net::TcpListener::bind(self.gateway_addr)
            .await
            .expect("bind the same gateway address again");
        let (tx, rx) = oneshot::channel::<()>();
        let listeners = server::Listeners { http, gateway };
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

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.client
            .put(format!("{}{path}", self.url))
            .header("Origin", &self.origin)
    }

    /// Stops the server gracefully and waits for it to finish.
    pub async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).ok();
        let handle = self.handle.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), handle)
            .await
            .expect("server stops within 20 s")
            .expect("server task")
            .expect("server returns Ok");
    }
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

/// Ana signs up (Owner of a new cluster) and Bo joins it with `role`; returns the cluster and
/// Bo's session cookie.
pub async fn ana_and_bo(app: &TestApp, role: &str) -> (String, String) {
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap().to_string();
    let bo = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signup", app.url))
        .header("Origin", &app.origin)
        .json(&json!({ "email": "bo@example.com", "password": "correct horse battery", "name": "Bo" }))
        .send()
        .await
        .unwrap();
    let cookie = set_cookie(&bo).split(';').next().unwrap().to_string();
    let bo: Value = bo.json().await.unwrap();
    let store = control::Store::open(&control::Store::sqlite_url(&app.data_dir))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO memberships (cluster_id, user_id, role, created_at) VALUES ($1, $2, $3, 0)",
    )
    .bind(&cluster)
    .bind(bo["user"]["id"].as_str().unwrap())
    .bind(role)
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    (cluster, cookie)
}
