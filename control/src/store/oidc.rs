//! SQL for `oidc_bindings`: which issuer and repository a cluster trusts for CI OIDC
//! federation, and with which role.

use proto::api::{OidcProvider, Role};
use sqlx::FromRow;

use super::Named;
use super::query::Arg::{Int, OptText, Text};
use super::query::{Exec, Table, all, execute, insert_into, select, select_one};

#[derive(Debug, Clone, FromRow)]
pub struct BindingRow {
    pub id: String,
    pub cluster_id: String,
    #[sqlx(try_from = "Named<OidcProvider>")]
    pub provider: OidcProvider,
    pub issuer: String,
    pub audience: String,
    pub repository: String,
    pub git_ref: Option<String>,
    pub environment: Option<String>,
    #[sqlx(try_from = "Named<Role>")]
    pub role: Role,
    pub created_by: String,
    pub created_at: i64,
    /// The creator's name (joined when listing).
    #[sqlx(default)]
    pub creator_name: Option<String>,
}

impl From<Named<OidcProvider>> for OidcProvider {
    fn from(n: Named<OidcProvider>) -> OidcProvider {
        n.0
    }
}

impl Table for BindingRow {
    const FROM: &'static str = "oidc_bindings b";
    const COLUMNS: &'static str = "b.id, b.cluster_id, b.provider, b.issuer, b.audience, \
                                   b.repository, b.git_ref, b.environment, b.role, \
                                   b.created_by, b.created_at";
}

pub async fn insert(db: impl Exec<'_>, r: &BindingRow) -> sqlx::Result<()> {
    let args = [
        Text(&r.id),
        Text(&r.cluster_id),
        Text(r.provider.as_str()),
        Text(&r.issuer),
        Text(&r.audience),
        Text(&r.repository),
        OptText(r.git_ref.as_deref()),
        OptText(r.environment.as_deref()),
        Text(r.role.as_str()),
        Text(&r.created_by),
        Int(r.created_at),
    ];
    let into = "oidc_bindings (id, cluster_id, provider, issuer, audience, repository, git_ref, \
                environment, role, created_by, created_at)";
    insert_into(db, into, &args).await
}

/// A cluster's bindings, oldest first, with their creators' names.
pub async fn in_cluster(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<Vec<BindingRow>> {
    let sql = format!(
        "SELECT {}, u.name AS creator_name FROM oidc_bindings b \
         LEFT JOIN users u ON u.id = b.created_by WHERE b.cluster_id = $1 \
         ORDER BY b.created_at, b.id",
        BindingRow::COLUMNS
    );
    all(db, &sql, &[Text(cluster_id)]).await
}

pub async fn by_id(
    db: impl Exec<'_>,
    cluster_id: &str,
    id: &str,
) -> sqlx::Result<Option<BindingRow>> {
    select_one(
        db,
        "b.cluster_id = $1 AND b.id = $2",
        &[Text(cluster_id), Text(id)],
    )
    .await
}

/// Every binding, in any cluster, that trusts `issuer` (an exchange's candidates).
pub async fn of_issuer(db: impl Exec<'_>, issuer: &str) -> sqlx::Result<Vec<BindingRow>> {
    select(
        db,
        "b.issuer = $1 ORDER BY b.created_at, b.id",
        &[Text(issuer)],
    )
    .await
}

/// Removes a binding; false when there was none.
pub async fn delete(db: impl Exec<'_>, cluster_id: &str, id: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM oidc_bindings WHERE cluster_id = $1 AND id = $2";
    Ok(execute(db, sql, &[Text(cluster_id), Text(id)]).await? > 0)
}
