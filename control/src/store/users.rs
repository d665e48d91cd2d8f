//! SQL for `users`.

use sqlx::{Executor, FromRow};

use super::Db;
use crate::clock::rfc3339;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: i64,
}

impl UserRow {
    pub fn to_api(&self) -> proto::api::User {
        proto::api::User {
            id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            created_at: rfc3339(self.created_at),
        }
    }
}

const COLUMNS: &str = "id, email, name, password_hash, created_at";

pub async fn insert<'e>(db: impl Executor<'e, Database = Db>, u: &UserRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&u.id)
    .bind(&u.email)
    .bind(&u.name)
    .bind(&u.password_hash)
    .bind(u.created_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_email<'e>(
    db: impl Executor<'e, Database = Db>,
    email: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(db)
        .await
}

pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn count<'e>(db: impl Executor<'e, Database = Db>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

pub async fn set_password_hash<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    hash: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
