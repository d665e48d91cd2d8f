//! The one storage API over SQLite (the default, a file in the data dir) or PostgreSQL (to scale
//! out). Queries are written once in the SQL both understand and run through sqlx's `Any` driver;
//! each table's SQL lives in its own module and takes an executor so callers own transactions.

pub mod clusters;
pub mod deployments;
pub mod env;
pub mod events;
pub mod flags;
pub mod idempotency;
pub mod instances;
pub mod invites;
pub mod logs;
pub mod memberships;
pub mod services;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::DomainError;

pub type Db = sqlx::Any;
pub type Tx<'a> = sqlx::Transaction<'a, Db>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
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
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool, backend })
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

/// True when `e` is a unique-constraint violation (both backends report it the same way).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
