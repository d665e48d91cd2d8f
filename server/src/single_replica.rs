//! One Base per SQLite database. Several replicas need PostgreSQL (docs/scale-out.md): two
//! processes on one SQLite file would each think they hold every agent and run every
//! background job. The first takes an exclusive lock on `<database>.lock` for as long as it
//! runs (the kernel releases it when the process ends, however it ends); a second gets a clear
//! error instead of a quiet split brain.

use std::fs::{File, TryLockError};
use std::path::Path;

use anyhow::Context;

/// Locks `db`'s lock file, or says which database another Base already uses.
pub fn lock(db: &Path) -> anyhow::Result<File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let path = Path::new(&name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "another dployr-server already uses the SQLite database {}: SQLite serves one Base \
             replica only; to run several, give each DATABASE_URL=postgres://… (docs/scale-out.md)",
            db.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dployr.db");
        let first = lock(&db).unwrap();
        let e = lock(&db).unwrap_err().to_string();
        assert!(
            e.contains("another dployr-server") && e.contains("postgres"),
            "{e}"
        );
        drop(first);
        lock(&db).expect("free again once the first is gone");
    }
}
