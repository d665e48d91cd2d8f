//! SQL for `default_host_certs`: the certificate the instance last reported for a service's
//! default host (which, unlike a custom domain, has no row in `domains`).

use proto::api::CertificateStatus;
use sqlx::FromRow;

use super::Named;
use super::domains::CertUpdate;
use super::query::Arg::{Int, OptInt, OptText, Text};
use super::query::{Exec, Table, run, select_one};

#[derive(Debug, Clone, FromRow)]
pub struct DefaultHostCertRow {
    pub service_id: String,
    /// The name the report was about (a renamed service's old host no longer applies).
    pub host: String,
    #[sqlx(try_from = "Named<CertificateStatus>")]
    pub state: CertificateStatus,
    pub expires_at: Option<i64>,
    pub issuer: Option<String>,
    pub reason: Option<String>,
    pub retry_at: Option<i64>,
    pub updated_at: i64,
}

impl Table for DefaultHostCertRow {
    const FROM: &'static str = "default_host_certs";
    const COLUMNS: &'static str =
        "service_id, host, state, expires_at, issuer, reason, retry_at, updated_at";
}

pub async fn of_service(
    db: impl Exec<'_>,
    service_id: &str,
) -> sqlx::Result<Option<DefaultHostCertRow>> {
    select_one(db, "service_id = $1", &[Text(service_id)]).await
}

/// Records what the instance reported for `host`, replacing the service's earlier report.
pub async fn set(
    db: impl Exec<'_>,
    service_id: &str,
    host: &str,
    c: CertUpdate<'_>,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "INSERT INTO default_host_certs \
               (service_id, host, state, expires_at, issuer, reason, retry_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
               ON CONFLICT (service_id) DO UPDATE SET host = excluded.host, \
               state = excluded.state, expires_at = excluded.expires_at, \
               issuer = excluded.issuer, reason = excluded.reason, \
               retry_at = excluded.retry_at, updated_at = excluded.updated_at";
    let args = [
        Text(service_id),
        Text(host),
        Text(c.state.as_str()),
        OptInt(c.expires_at),
        OptText(c.issuer),
        OptText(c.reason),
        OptInt(c.retry_at),
        Int(now),
    ];
    run(db, sql, &args).await
}
