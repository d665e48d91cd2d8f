//! Two real `dployr-server` replicas on one PostgreSQL database (issue 20): an agent connected
//! to replica B shows online on replica A's API (and on B's, with the same session: sessions
//! live in the database); a deploy asked of A reaches the agent on B and goes live (the app
//! answers); B is SIGKILLed and A shows the agent offline once B's lease runs out.
//! A second `dployr-server` on a SQLite database already in use stops with a clear error.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::Fetch;
use crate::{Invite, RunningAgent, eventually};
use testkit::{Repo, free_port};

const PG_ADMIN_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh database on the test server; dropped by [`FreshDb`]'s `Drop`.
struct FreshDb {
    admin: String,
    name: String,
    url: String,
}

impl FreshDb {
    async fn new() -> FreshDb {
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
struct Replica {
    child: Child,
    url: String,
    gateway: u16,
}

impl Replica {
    fn start(data: &Path, database_url: Option<&str>, id: &str) -> Replica {
        Replica::start_with(data, database_url, id, Stdio::null())
    }

    /// `stderr`: where the process's log goes (a pipe only for a process expected to stop:
    /// one nobody reads would fill and block it).
    fn start_with(data: &Path, database_url: Option<&str>, id: &str, stderr: Stdio) -> Replica {
        let (http, gateway) = (free_port(), free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dployr-server"));
        cmd.args(["--listen", &format!("127.0.0.1:{http}")])
            .args(["--gateway-listen", &format!("127.0.0.1:{gateway}")])
            .arg("--data-dir")
            .arg(data)
            .env("DPLOYR_REPLICA_ID", id)
            .env("DPLOYR_REPLICA_LEASE_SECS", "3")
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

    async fn healthy(&self, client: &reqwest::Client) {
        eventually(Duration::from_secs(30), "replica healthy", || async {
            client
                .get(format!("{}/healthz", self.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
    }

    async fn instance_status(&self, client: &reqwest::Client, cluster: &str) -> String {
        let list: Value = match client
            .get(format!("{}/api/v1/clusters/{cluster}/instances", self.url))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        list["instances"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
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
fn share_identity(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for file in ["gateway-cert.der", "gateway-key.der", "master.key"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_an_agent_on_b_is_online_and_deployed_to_through_a_until_b_is_killed() {
    let db = FreshDb::new().await;
    let dirs = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (dirs.path().join("a"), dirs.path().join("b"));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let a = Replica::start(&dir_a, Some(&db.url), "replica-a");
    a.healthy(&client).await;
    share_identity(&dir_a, &dir_b);
    let mut b = Replica::start(&dir_b, Some(&db.url), "replica-b");
    b.healthy(&client).await;

    let signup: Value = client
        .post(format!("{}/api/v1/auth/signup", a.url))
        .header("Origin", &a.url)
        .json(&json!({ "email": "ana@example.com", "password": "correct horse battery", "name": "Ana" }))
        .fetch()
        .await;
    let cluster = signup["cluster"]["id"].as_str().unwrap().to_string();
    let made: Value = client
        .post(format!("{}/api/v1/clusters/{cluster}/instances", a.url))
        .header("Origin", &a.url)
        .json(&json!({ "name": "web-1" }))
        .fetch()
        .await;
    let mut invite = Invite::from_install_command(
        made["instance"]["id"].as_str().unwrap().to_string(),
        made["install_command"].as_str().unwrap(),
    );
    // The agent dials B (the install command A printed names A's gateway).
    invite.url = format!("wss://127.0.0.1:{}", b.gateway);
    let agent = RunningAgent::join_and_run(&invite).await;

    eventually(Duration::from_secs(10), "online on B", || async {
        b.instance_status(&client, &cluster).await == "online"
    })
    .await;
    eventually(
        Duration::from_secs(10),
        "online on A, which does not hold it",
        || async { a.instance_status(&client, &cluster).await == "online" },
    )
    .await;

    // A deploy asked of A goes to the agent B holds (the order through `agent_commands`), and
    // the app answers.
    let repo = Repo::new();
    let app = "require('http').createServer((q, s) => s.end('v1')).listen(process.env.PORT, '127.0.0.1');\n";
    let pkg = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;
    repo.commit(&[("package.json", pkg), ("server.js", app)], "v1");
    let post = |path: String, body: Value| {
        let (client, url) = (&client, &a.url);
        async move {
            client
                .post(format!("{url}{path}"))
                .header("Origin", url)
                .json(&body)
                .fetch()
                .await
        }
    };
    let svc: Value = post(
        format!("/api/v1/clusters/{cluster}/services"),
        json!({"name": "web", "instance_id": invite.instance_id,
               "source": {"git": {"url": repo.url()}}, "build_command": "true"}),
    )
    .await;
    let svc = svc["id"].as_str().unwrap().to_string();
    let deployed: Value = post(format!("/api/v1/services/{svc}/deployments"), json!({})).await;
    let dep = deployed["deployment"]["id"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(120), "live, seen through A", || async {
        let got: Value = match client
            .get(format!("{}/api/v1/deployments/{dep}", a.url))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        got["state"] == "live"
    })
    .await;
    let ingress = std::fs::read_to_string(agent.data.path().join("ingress.addr")).unwrap();
    let answer = reqwest::Client::new()
        .get(format!("http://{ingress}/"))
        .header("Host", "web.test")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(answer, "v1");

    b.child.kill().unwrap();
    b.child.wait().unwrap();
    // B's lease (3 s) runs out; A reads who holds what at each renewal (every second).
    eventually(
        Duration::from_secs(10),
        "offline on A once B's lease ran out",
        || async { a.instance_status(&client, &cluster).await == "offline" },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_a_second_base_on_one_sqlite_database_stops_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let first = Replica::start(dir.path(), None, "first");
    first.healthy(&client).await;
    let mut second = Replica::start_with(dir.path(), None, "second", Stdio::piped());
    let status = tokio::task::spawn_blocking(move || {
        let status = second.child.wait().unwrap();
        let mut err = String::new();
        use std::io::Read;
        second
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    });
    let (status, err) = tokio::time::timeout(Duration::from_secs(30), status)
        .await
        .expect("the second Base stops")
        .unwrap();
    assert!(!status.success());
    assert!(
        err.contains("another dployr-server already uses the SQLite database"),
        "{err}"
    );
    // The first keeps serving.
    first.healthy(&client).await;
}
