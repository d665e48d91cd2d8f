//! SQL for `users`.

use sqlx::FromRow;

use super::query::Arg::{Int, Text};
use super::query::{Exec, Table, run, scalar, select_one};
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

impl Table for UserRow {
    const FROM: &'static str = "users";
    const COLUMNS: &'static str = "id, email, name, password_hash, created_at";
}

pub async fn insert(db: impl Exec<'_>, u: &UserRow) -> sqlx::Result<()> {
    let sql = "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $5)";
    let args = [
        Text(&u.id),
        Text(&u.email),
        Text(&u.name),
        Text(&u.password_hash),
        Int(u.created_at),
    ];
    run(db, sql, &args).await
}

pub async fn by_email(db: impl Exec<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    select_one(db, "email = $1", &[Text(email)]).await
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<UserRow>> {
    select_one(db, "id = $1", &[Text(id)]).await
}

pub async fn count(db: impl Exec<'_>) -> sqlx::Result<i64> {
    scalar(db, "SELECT COUNT(*) FROM users", &[]).await
}

pub async fn set_password_hash(
    db: impl Exec<'_>,
    id: &str,
    hash: &str,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3";
    run(db, sql, &[Text(hash), Int(now), Text(id)]).await
}
