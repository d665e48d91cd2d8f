//! Test databases: a fresh SQLite file in a temp dir, or a fresh PostgreSQL database created on
//! the server at `DPLOYR_TEST_PG_URL` (default: the local trust-auth server) and dropped after.

#![allow(dead_code)]

pub mod replicas;

use control::{Actor, Base, BaseConfig, ClientInfo, Store};
use proto::api::{CreateServiceRequest, SignupRequest};
use sqlx::Connection;

pub const PG_ADMIN_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub enum Kind {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub store: Store,
    url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

fn pg_admin_url() -> String {
    std::env::var("DPLOYR_TEST_PG_URL").unwrap_or_else(|_| PG_ADMIN_DEFAULT.to_string())
}

impl TestDb {
    pub async fn new(kind: Kind) -> TestDb {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = Store::sqlite_url(dir.path());
                let store = Store::open(&url).await.expect("open sqlite");
                TestDb {
                    store,
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres => {
                let admin = pg_admin_url();
                let name = format!("dployr_t_{}", ulid::Ulid::new().to_string().to_lowercase());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL at {admin} is required for store tests: {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create db");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).expect("admin url");
                url.set_path(&name);
                let url = url.to_string();
                let store = Store::open(&url).await.expect("open postgres");
                TestDb {
                    store,
                    url,
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn base(&self, open_signup: bool) -> Base {
        let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
        cfg.open_signup = open_signup;
        Base::new(self.store.clone(), cfg)
    }

    /// Closes the pool and drops the PostgreSQL database. Call at the end of every test.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(name) = self.pg_name {
            let mut conn = sqlx::PgConnection::connect(&pg_admin_url())
                .await
                .expect("admin connection");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("drop db");
        }
    }
}

/// Runs one async test body against SQLite and against PostgreSQL, as two test functions.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = common::TestDb::new(common::Kind::Sqlite).await;
                $body(&db).await;
                db.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = common::TestDb::new(common::Kind::Postgres).await;
                $body(&db).await;
                db.finish().await;
            }
        }
    };
}

/// Signs up `email` (Owner of a new cluster of their own): their actor, user id and cluster id.
pub async fn person(base: &Base, email: &str) -> (Actor, String, String) {
    let client = ClientInfo::default();
    let s = base
        .signup(
            SignupRequest {
                email: email.into(),
                password: "correct horse battery".into(),
                name: email.into(),
            },
            &client,
        )
        .await
        .unwrap();
    let actor = base.authenticate(&s.session.token, client).await.unwrap();
    (actor, s.user.id, s.cluster.id)
}

/// Signs up Ana (Owner of a new cluster) with one instance and a git service `api` on it.
pub async fn owner_with_service(base: &Base) -> (Actor, String) {
    let (actor, _, cluster) = person(base, "ana@example.com").await;
    let instance = base
        .create_instance(&actor, &cluster, "web-1")
        .await
        .unwrap();
    let req: CreateServiceRequest = serde_json::from_value(serde_json::json!({
        "name": "api",
        "instance_id": instance.instance.id,
        "source": {"git": {"url": "file:///srv/api.git", "branch": "main"}},
    }))
    .unwrap();
    let svc = base.create_service(&actor, &cluster, req).await.unwrap();
    (actor, svc.id)
}

/// A Base whose domain checks ask the test's DNS server `dns` (open sign-up, so a test can add
/// people).
pub fn base_with_dns(db: &TestDb, dns: &testkit::dns::DnsServer) -> Base {
    let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    cfg.open_signup = true;
    cfg.dns_server = Some(dns.addr());
    Base::new(db.store.clone(), cfg)
}

/// Adding `name` as a domain, without HSTS.
pub fn add(name: &str) -> proto::api::AddDomainRequest {
    proto::api::AddDomainRequest {
        name: name.into(),
        hsts: false,
    }
}

/// The actions of the cluster's events, newest first.
pub async fn actions(base: &Base, actor: &Actor, cluster: &str) -> Vec<String> {
    base.event_page(actor, cluster, &proto::api::EventFilter::default(), 500)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.action)
        .collect()
}
