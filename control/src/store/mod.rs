//! The one storage API over SQLite (the default, a file in the data dir) or PostgreSQL (to scale
//! out). Queries are written once in the SQL both understand and run through sqlx's `Any` driver;
//! each table's SQL lives in its own module and takes an executor so callers own transactions.
//! Migrations are shared too, except what one database must say its own way (a CHECK added to an
//! existing table): those sit in `migrations/sqlite` and `migrations/postgres` under the same
//! version number, and [`Store::open`] runs the shared ones merged with its backend's.

pub mod agent_commands;
pub mod clusters;
pub mod default_host_certs;
pub mod deployments;
pub mod domains;
pub mod env;
pub mod events;
pub mod flags;
pub mod idempotency;
pub mod instances;
pub mod invites;
pub mod logs;
pub mod memberships;
pub mod metrics;
pub mod notifications;
pub mod oidc;
pub mod outbox;
pub mod query;
pub mod removals;
pub mod replicas;
pub mod scrape;
pub mod services;
pub mod sessions;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use std::path::Path;
use std::str::FromStr;

use futures_util::future::BoxFuture;
use proto::api::{CertificateStatus, DomainStatus, Role, ServiceStatus};
use proto::deploy::DeployState;
use proto::names::UnknownName;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use sqlx::{AnyPool, Executor};

use crate::DomainError;

pub type Db = sqlx::Any;
pub type Tx<'a> = sqlx::Transaction<'a, Db>;

static SHARED: Migrator = sqlx::migrate!("./migrations");
static SQLITE_ONLY: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_ONLY: Migrator = sqlx::migrate!("./migrations/postgres");

/// Already-embedded migrations handed to [`Migrator::new`].
#[derive(Debug)]
struct Embedded(Vec<Migration>);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

/// The shared migrations and `backend`'s own, in version order.
async fn migrator(backend: Backend) -> Result<Migrator, DomainError> {
    let own = match backend {
        Backend::Sqlite => &SQLITE_ONLY,
        Backend::Postgres => &POSTGRES_ONLY,
    };
    let mut all: Vec<Migration> = SHARED.iter().chain(own.iter()).cloned().collect();
    all.sort_by_key(|m| m.version);
    Ok(Migrator::new(Embedded(all)).await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The database's URL, kept on PostgreSQL for the connections that are not the pool's
    /// (`LISTEN`, the jobs' advisory lock: [`crate::replicas`]).
    postgres_url: Option<std::sync::Arc<str>>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`: `sqlite://…` or
    /// `postgres://…`.
    pub async fn open(url: &str) -> Result<Store, DomainError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(DomainError::invalid(
                "DATABASE_URL",
                "must start with sqlite: or postgres:",
            ));
        };
        let opts = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; NORMAL is durable in WAL mode
                        // except for the last transactions before a power cut.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        migrator(backend).await?.run(&pool).await?;
        let postgres_url = (backend == Backend::Postgres).then(|| url.into());
        Ok(Store {
            pool,
            backend,
            postgres_url,
        })
    }

    /// The default database: a SQLite file in the data directory.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("dployr.db").display())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL of a PostgreSQL database; `None` on SQLite.
    pub fn postgres_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes fails at once with "database is locked"
    /// when another writer committed in between, whatever the busy timeout, and our
    /// transactions all write.
    pub async fn begin(&self) -> Result<Tx<'static>, DomainError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A text column holding one of an enum's wire names (`#[sqlx(try_from = "Named<Role>")]` on
/// a row field of type `Role`): read with the enum's `TryFrom<String>`, so an unknown name fails
/// the read with the column and the value instead of becoming some default.
pub struct Named<T>(T);

impl<T> sqlx::Type<Db> for Named<T> {
    fn type_info() -> <Db as sqlx::Database>::TypeInfo {
        <String as sqlx::Type<Db>>::type_info()
    }

    fn compatible(ty: &<Db as sqlx::Database>::TypeInfo) -> bool {
        <String as sqlx::Type<Db>>::compatible(ty)
    }
}

impl<'r, T: TryFrom<String, Error = UnknownName>> sqlx::Decode<'r, Db> for Named<T> {
    fn decode(value: <Db as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as sqlx::Decode<'r, Db>>::decode(value)?;
        Ok(Named(T::try_from(text)?))
    }
}

/// `Named<T>` hands over its `T` (what the derive's `try_from` needs; a blanket impl over `T`
/// is not allowed for enums of another crate).
macro_rules! named_columns {
    ($($ty:ty),+) => {
        $(impl From<Named<$ty>> for $ty {
            fn from(n: Named<$ty>) -> $ty {
                n.0
            }
        })+
    };
}
named_columns!(
    DeployState,
    ServiceStatus,
    Role,
    DomainStatus,
    CertificateStatus
);

/// True when `e` is a unique-constraint violation (both backends report it the same way).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
