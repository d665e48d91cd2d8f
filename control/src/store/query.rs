//! The few ways the store runs a statement, written once for every table: each takes the SQL
//! and its values as a slice of [`Arg`], bound as parameters in order (values are never
//! formatted into the SQL); [`insert_into`] numbers an INSERT's placeholders itself. [`Table`]
//! names a row type's table and columns, so [`select`] and [`select_one`] need only the
//! condition.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments, Executor, FromRow};

use super::Db;

/// Anything a statement runs on: the pool, a connection or a transaction.
pub trait Exec<'e>: Executor<'e, Database = Db> {}

impl<'e, T: Executor<'e, Database = Db>> Exec<'e> for T {}

/// One parameter of a statement, of one of the types our columns hold.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
}

/// A row type that [`sqlx`] can read.
pub trait Row: for<'r> FromRow<'r, AnyRow> + Send + Unpin {}

impl<R: for<'r> FromRow<'r, AnyRow> + Send + Unpin> Row for R {}

/// `args` bound in order, as `$1`, `$2`, …; a value that fails to encode fails the statement,
/// as sqlx's own `bind` does.
fn arguments<'a>(args: &[Arg<'a>]) -> sqlx::Result<AnyArguments<'a>> {
    let mut out = AnyArguments::default();
    for arg in args {
        let added = match *arg {
            Arg::Text(v) => out.add(v),
            Arg::OptText(v) => out.add(v),
            Arg::Int(v) => out.add(v),
            Arg::OptInt(v) => out.add(v),
        };
        added.map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// Runs a statement; returns how many rows it touched.
pub async fn execute(db: impl Exec<'_>, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<u64> {
    let done = sqlx::query_with(sql, arguments(args)?).execute(db).await?;
    Ok(done.rows_affected())
}

/// Runs a statement for its effect alone.
pub async fn run(db: impl Exec<'_>, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<()> {
    execute(db, sql, args).await.map(drop)
}

/// `INSERT INTO {into} VALUES ($1, …)`: `into` names the table and its columns, `values`
/// fill them in order.
pub async fn insert_into(db: impl Exec<'_>, into: &str, values: &[Arg<'_>]) -> sqlx::Result<()> {
    let sql = format!(
        "INSERT INTO {into} VALUES ({})",
        placeholders(1..=values.len())
    );
    run(db, &sql, values).await
}

/// `$a, …, $b`: the placeholders of a list of parameters.
pub fn placeholders(numbers: std::ops::RangeInclusive<usize>) -> String {
    numbers
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first row the query returns, if any.
pub async fn optional<R: Row>(
    db: impl Exec<'_>,
    sql: &str,
    args: &[Arg<'_>],
) -> sqlx::Result<Option<R>> {
    sqlx::query_as_with(sql, arguments(args)?)
        .fetch_optional(db)
        .await
}

/// Every row the query returns.
pub async fn all<R: Row>(db: impl Exec<'_>, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<Vec<R>> {
    sqlx::query_as_with(sql, arguments(args)?)
        .fetch_all(db)
        .await
}

/// The one value of the one row the query returns (a count, a column of a known row).
pub async fn scalar<T>(db: impl Exec<'_>, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<T>
where
    (T,): Row,
    T: Send + Unpin,
{
    sqlx::query_scalar_with(sql, arguments(args)?)
        .fetch_one(db)
        .await
}

/// The value of the first row the query returns, if any.
pub async fn optional_scalar<T>(
    db: impl Exec<'_>,
    sql: &str,
    args: &[Arg<'_>],
) -> sqlx::Result<Option<T>>
where
    (T,): Row,
{
    let row: Option<(T,)> = optional(db, sql, args).await?;
    Ok(row.map(|(value,)| value))
}

/// A row type read from one table (or a table with joins, named with its alias).
pub trait Table: Row {
    /// What follows `FROM`: the table, with its alias and joins if `COLUMNS` uses them.
    const FROM: &'static str;
    /// The columns [`FromRow`] reads, in `SELECT` syntax.
    const COLUMNS: &'static str;
}

/// The rows of `T` matching `condition` (SQL after `WHERE`, with its own `ORDER BY`).
pub async fn select<T: Table>(
    db: impl Exec<'_>,
    condition: &str,
    args: &[Arg<'_>],
) -> sqlx::Result<Vec<T>> {
    let sql = format!("SELECT {} FROM {} WHERE {condition}", T::COLUMNS, T::FROM);
    all(db, &sql, args).await
}

/// The first row of `T` matching `condition`, if any.
pub async fn select_one<T: Table>(
    db: impl Exec<'_>,
    condition: &str,
    args: &[Arg<'_>],
) -> sqlx::Result<Option<T>> {
    let sql = format!("SELECT {} FROM {} WHERE {condition}", T::COLUMNS, T::FROM);
    optional(db, &sql, args).await
}
