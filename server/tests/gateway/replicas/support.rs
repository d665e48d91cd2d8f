//! What the replica tests share: a fresh PostgreSQL database per test, `dployr-server`
//! processes (each with its peer link on), and what replicas share besides the database.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;

use crate::eventually;
use testkit::free_port;

const PG_ADMIN_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh database on the test server; dropped by [`FreshDb`]'s `Drop`.
pub(super) struct FreshDb {
    admin: String,
    name: String,
    pub url: String,
}

impl FreshDb {
    pub async fn new() -> FreshDb {
        let admin =
            std::env::var("DPLOYR_TEST_PG_URL").unwrap_or_else(|_| PG_ADMIN_DEFAULT.to_string());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("dployr_r_{}_{nanos}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        FreshDb {
            admin,
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime: the cleanup gets a thread and runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(&drop).execute(&mut conn).await;
                }
            })
        })
        .join();
    }
}

/// One `dployr-server` process, killed when dropped.
pub(super) struct Replica {
    pub child: Child,
    pub url: String,
    pub gateway: u16,
}

impl Replica {
    pub fn start(data: &Path, database_url: Option<&str>, id: &str) -> Replica {
        Replica::start_with(data, database_url, id, Stdio::null())
    }

    /// `stderr`: where the process's log goes (a pipe only for a process expected to stop:
    /// one nobody reads would fill and block it).
    pub fn start_with(data: &Path, database_url: Option<&str>, id: &str, stderr: Stdio) -> Replica {
        let (http, gateway, peer) = (free_port(), free_port(), free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dployr-server"));
        cmd.args(["--listen", &format!("127.0.0.1:{http}")])
            .args(["--gateway-listen", &format!("127.0.0.1:{gateway}")])
            .arg("--data-dir")
            .arg(data)
            .env("DPLOYR_REPLICA_ID", id)
            .env("DPLOYR_REPLICA_LEASE_SECS", "3")
            .env("DPLOYR_PEER_LISTEN", format!("127.0.0.1:{peer}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(stderr);
        if let Some(db) = database_url {
            cmd.env("DATABASE_URL", db);
        }
        Replica {
            child: cmd.spawn().expect("start dployr-server"),
            url: format!("http://127.0.0.1:{http}"),
            gateway,
        }
    }

    pub async fn healthy(&self, client: &reqwest::Client) {
        eventually(Duration::from_secs(30), "replica healthy", || async {
            client
                .get(format!("{}/healthz", self.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
    }

    /// The status the replica's API gives the instance called `name`.
    pub async fn instance_status(
        &self,
        client: &reqwest::Client,
        cluster: &str,
        name: &str,
    ) -> String {
        let list: Value = match client
            .get(format!("{}/api/v1/clusters/{cluster}/instances", self.url))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        list["instances"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["name"] == name)
            .map(|i| i["status"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }

    /// `wss://` of its gateway, as agents dial it.
    pub fn gateway_url(&self) -> String {
        format!("wss://127.0.0.1:{}", self.gateway)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What replicas share besides the database: the gateway's identity (agents pin it) and the
/// master key (secrets sealed on one are opened on another).
pub(super) fn share_identity(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for file in ["gateway-cert.der", "gateway-key.der", "master.key"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
}
