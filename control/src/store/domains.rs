//! SQL for `domains`: a service's custom host names, whether they are verified, and what the
//! instance reported about their certificates.

use proto::api::{CertificateStatus, DomainStatus};
use sqlx::FromRow;

use super::Named;
use super::query::Arg::{Int, OptInt, OptText, Text};
use super::query::{Exec, Table, execute, insert_into, run, select, select_one};

#[derive(Debug, Clone, FromRow)]
pub struct DomainRow {
    pub id: String,
    pub cluster_id: String,
    pub service_id: String,
    pub name: String,
    pub token: String,
    #[sqlx(try_from = "Named<DomainStatus>")]
    pub status: DomainStatus,
    pub verified_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub last_error: Option<String>,
    pub next_check_at: i64,
    pub check_failures: i64,
    #[sqlx(try_from = "Named<CertificateStatus>")]
    pub cert_state: CertificateStatus,
    pub cert_expires_at: Option<i64>,
    pub cert_issuer: Option<String>,
    pub cert_reason: Option<String>,
    pub cert_retry_at: Option<i64>,
    pub upload_chain: Option<String>,
    pub upload_key_sealed: Option<String>,
    pub upload_key_id: Option<String>,
    pub hsts: i64,
    pub created_at: i64,
}

impl Table for DomainRow {
    const FROM: &'static str = "domains";
    const COLUMNS: &'static str = "id, cluster_id, service_id, name, token, status, verified_at, \
        last_checked_at, last_error, next_check_at, check_failures, cert_state, cert_expires_at, \
        cert_issuer, cert_reason, cert_retry_at, upload_chain, upload_key_sealed, upload_key_id, \
        hsts, created_at";
}

/// Adds a pending domain; a name already held fails with a unique violation.
pub async fn insert(db: impl Exec<'_>, r: &DomainRow) -> sqlx::Result<()> {
    let into = "domains (id, cluster_id, service_id, name, token, status, next_check_at, hsts, \
                created_at)";
    let args = [
        Text(&r.id),
        Text(&r.cluster_id),
        Text(&r.service_id),
        Text(&r.name),
        Text(&r.token),
        Text(r.status.as_str()),
        Int(r.next_check_at),
        Int(r.hsts),
        Int(r.created_at),
    ];
    insert_into(db, into, &args).await
}

pub async fn by_name(db: impl Exec<'_>, name: &str) -> sqlx::Result<Option<DomainRow>> {
    select_one(db, "name = $1", &[Text(name)]).await
}

pub async fn of_service(db: impl Exec<'_>, service_id: &str) -> sqlx::Result<Vec<DomainRow>> {
    select(db, "service_id = $1 ORDER BY name", &[Text(service_id)]).await
}

/// The verified names of a service, sorted: what its instance may route.
pub async fn verified_names(db: impl Exec<'_>, service_id: &str) -> sqlx::Result<Vec<String>> {
    let rows: Vec<DomainRow> = select(
        db,
        "service_id = $1 AND status = 'verified' ORDER BY name",
        &[Text(service_id)],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Pending domains due for a background check, soonest first, at most `limit`.
pub async fn due(db: impl Exec<'_>, now: i64, limit: i64) -> sqlx::Result<Vec<DomainRow>> {
    select(
        db,
        "status = 'pending' AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2",
        &[Int(now), Int(limit)],
    )
    .await
}

/// Records a check that did not verify the domain, and when to look again.
pub async fn check_failed(
    db: impl Exec<'_>,
    id: &str,
    at: i64,
    error: &str,
    next_check_at: i64,
) -> sqlx::Result<()> {
    let sql = "UPDATE domains SET last_checked_at = $2, last_error = $3, next_check_at = $4, \
               check_failures = check_failures + 1 WHERE id = $1 AND status = 'pending'";
    run(
        db,
        sql,
        &[Text(id), Int(at), Text(error), Int(next_check_at)],
    )
    .await
}

/// Marks the domain verified; false when it was not pending any more.
pub async fn set_verified(db: impl Exec<'_>, id: &str, at: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE domains SET status = 'verified', verified_at = $2, last_checked_at = $2, \
               last_error = NULL WHERE id = $1 AND status = 'pending'";
    Ok(execute(db, sql, &[Text(id), Int(at)]).await? > 0)
}

pub async fn set_hsts(db: impl Exec<'_>, id: &str, hsts: bool) -> sqlx::Result<()> {
    let sql = "UPDATE domains SET hsts = $2 WHERE id = $1";
    run(db, sql, &[Text(id), Int(i64::from(hsts))]).await
}

/// What the instance said of the domain's certificate.
#[derive(Debug, Clone, Copy)]
pub struct CertUpdate<'a> {
    pub state: CertificateStatus,
    pub expires_at: Option<i64>,
    pub issuer: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub retry_at: Option<i64>,
}

/// Records a certificate report for `name`; false when no domain has that name.
pub async fn set_cert(db: impl Exec<'_>, name: &str, c: CertUpdate<'_>) -> sqlx::Result<bool> {
    let sql = "UPDATE domains SET cert_state = $2, cert_expires_at = $3, cert_issuer = $4, \
               cert_reason = $5, cert_retry_at = $6 WHERE name = $1";
    let args = [
        Text(name),
        Text(c.state.as_str()),
        OptInt(c.expires_at),
        OptText(c.issuer),
        OptText(c.reason),
        OptInt(c.retry_at),
    ];
    Ok(execute(db, sql, &args).await? > 0)
}

/// Stores an uploaded certificate and its sealed key.
pub async fn set_upload(
    db: impl Exec<'_>,
    id: &str,
    chain: &str,
    key_sealed: &str,
    key_id: &str,
) -> sqlx::Result<()> {
    let sql = "UPDATE domains SET upload_chain = $2, upload_key_sealed = $3, upload_key_id = $4 \
               WHERE id = $1";
    run(
        db,
        sql,
        &[Text(id), Text(chain), Text(key_sealed), Text(key_id)],
    )
    .await
}

/// Every domain with an uploaded key (for a master key rotation).
pub async fn with_upload(db: impl Exec<'_>) -> sqlx::Result<Vec<DomainRow>> {
    select(db, "upload_key_sealed IS NOT NULL ORDER BY id", &[]).await
}

pub async fn reseal(db: impl Exec<'_>, id: &str, sealed: &str, key_id: &str) -> sqlx::Result<()> {
    let sql = "UPDATE domains SET upload_key_sealed = $2, upload_key_id = $3 WHERE id = $1";
    run(db, sql, &[Text(id), Text(sealed), Text(key_id)]).await
}

/// Removes the domain; true when there was one.
pub async fn delete(db: impl Exec<'_>, id: &str) -> sqlx::Result<bool> {
    Ok(execute(db, "DELETE FROM domains WHERE id = $1", &[Text(id)]).await? > 0)
}
