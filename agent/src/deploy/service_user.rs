//! Each service, its builds and its console run as the service's own system user when dployrd
//! is root (security audit H1 and M3): a service's code, or a Member's env var that runs code in
//! its build, gets that user and nothing of dployrd's: not the agent's key, not another
//! service's files, processes or secrets.
//!
//! The user is `dployr-svc-<12 hex of the sha256 of the service id>` with a group of the same
//! name, made on the service's first deploy and deleted when the service is removed. The layout
//! of a service's folder makes its own files the only ones it can reach:
//!
//! ```text
//! <data dir>/                   root 0711   (agent-key.der 0600, status files: root)
//!   services/                   root 0711
//!     <id>/                     root:<svc> 0710
//!       releases.json           root 0600   (its releases and their secrets)
//!       generated/              root 0700
//!       releases/               root:<svc> 0710  (entries only root may rename)
//!         <deployment>/         <svc> 0700  (given to the user after the fetch)
//!       home/                   <svc> 0700  (HOME: npm, pip and corepack caches)
//! ```
//!
//! When dployrd is not root it cannot switch users: services run as dployrd's own user, as
//! before, and [`prepare_data_dir`] says so once at start. The same holds, with a louder
//! warning, when the data dir sits inside a folder other users cannot enter (a 0700 home or
//! temp dir): no service user could reach its release there.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::unistd::{Uid, User};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Who a service's builds and processes run as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// The service's `HOME`, which it owns.
    pub home: PathBuf,
}

/// The beginning of every service user's name.
pub const PREFIX: &str = "dployr-svc-";

/// Set at start when a folder above the data dir keeps other users out (a 0700 home or temp
/// dir): no service user could reach its release, so services run as dployrd, said loudly.
static UNREACHABLE: AtomicBool = AtomicBool::new(false);

/// Whether services get their own users: only root may create them and switch to them, and only
/// where they can reach their folders.
pub fn isolating() -> bool {
    Uid::effective().is_root() && !UNREACHABLE.load(Ordering::Relaxed)
}

/// The first folder above `data_dir` that other users may not pass through (no `o+x`).
fn closed_ancestor(data_dir: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(data_dir).ok()?;
    absolute
        .ancestors()
        .skip(1)
        .find(|dir| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 == 0))
        .map(Path::to_path_buf)
}

/// The service's user name: valid for `useradd` (lowercase, 23 characters) whatever the id.
pub fn user_name(service_id: &str) -> String {
    let hash = hex::encode(Sha256::digest(service_id.as_bytes()));
    format!("{PREFIX}{}", &hash[..12])
}

/// Makes the data dir traversable but not listable (root) or warns once that services are not
/// isolated (not root). Called when `dployrd run` starts.
pub fn prepare_data_dir(data_dir: &Path) {
    if !isolating() {
        let user = User::from_uid(Uid::effective())
            .ok()
            .flatten()
            .map_or_else(|| Uid::effective().to_string(), |u| u.name);
        tracing::warn!("dployrd is not root: services run as {user} without isolation");
        return;
    }
    if let Some(closed) = closed_ancestor(data_dir) {
        UNREACHABLE.store(true, Ordering::Relaxed);
        tracing::warn!(
            closed = %closed.display(),
            "the data dir is inside a folder other users cannot enter: services run as root \
             WITHOUT isolation; put the data dir elsewhere (--data-dir) or chmod o+x that folder"
        );
        return;
    }
    let services = data_dir.join("services");
    let result = std::fs::create_dir_all(&services)
        .and_then(|()| set_mode(data_dir, 0o711))
        .and_then(|()| set_mode(&services, 0o711));
    if let Err(e) = result {
        tracing::warn!(error = %e, "making the data dir traversable for service users");
    }
}

/// Creates and looks up only one user at a time: `useradd`s at once fail on the passwd lock.
static USERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The service's user, created if needed, with its folder laid out as the module says (and
/// release folders a dployrd without isolation left given to it); `None` when not root.
pub async fn prepare(services_dir: &Path, service_id: &str) -> io::Result<Option<Identity>> {
    if !isolating() {
        return Ok(None);
    }
    let name = user_name(service_id);
    let dir = services_dir.join(service_id);
    let home = dir.join("home");
    let user = {
        let _one = USERS.lock().await;
        match lookup(&name)? {
            Some(user) => user,
            None => {
                useradd(&name, &home).await?;
                lookup(&name)?.ok_or_else(|| io::Error::other(format!("{name} not created")))?
            }
        }
    };
    let id = Identity {
        name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home,
    };
    let id2 = id.clone();
    tokio::task::spawn_blocking(move || lay_out(&dir, &id2))
        .await
        .map_err(io::Error::other)??;
    Ok(Some(id))
}

/// Gives a freshly fetched release folder to the service's user (see [`give`]).
pub async fn give_release(dir: &Path, id: &Identity) -> io::Result<()> {
    let (dir, id) = (dir.to_path_buf(), id.clone());
    tokio::task::spawn_blocking(move || give(&dir, &id))
        .await
        .map_err(io::Error::other)?
}

/// Deletes the service's user and group (its files are deleted by the caller).
pub async fn remove(service_id: &str) {
    if !isolating() {
        return;
    }
    let name = user_name(service_id);
    let _one = USERS.lock().await;
    if lookup(&name).ok().flatten().is_none() {
        return;
    }
    let out = tokio::process::Command::new("userdel")
        .arg(&name)
        .output()
        .await;
    match out {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            tracing::warn!(user = %name, error = %String::from_utf8_lossy(&out.stderr).trim(), "userdel failed")
        }
        Err(e) => tracing::warn!(user = %name, error = %e, "could not run userdel"),
    }
}

/// The user of a service that was deployed (for its console); `None` when not root.
pub fn existing(services_dir: &Path, service_id: &str) -> io::Result<Option<Identity>> {
    if !isolating() {
        return Ok(None);
    }
    let name = user_name(service_id);
    let user = lookup(&name)?.ok_or_else(|| io::Error::other(format!("no user {name}")))?;
    Ok(Some(Identity {
        name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home: services_dir.join(service_id).join("home"),
    }))
}

fn lookup(name: &str) -> io::Result<Option<User>> {
    User::from_name(name).map_err(io::Error::from)
}

async fn useradd(name: &str, home: &Path) -> io::Result<()> {
    let out = tokio::process::Command::new("useradd")
        .args(["--system", "--user-group", "--no-create-home", "--shell"])
        .arg("/usr/sbin/nologin")
        .arg("--home-dir")
        .arg(home)
        .arg(name)
        .output()
        .await?;
    if out.status.success() {
        tracing::info!(user = %name, "service user created");
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "useradd {name}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The service's folder as the module says. Release folders not yet the user's (left by a
/// dployrd that ran services as root) are given to it.
fn lay_out(dir: &Path, id: &Identity) -> io::Result<()> {
    let releases = dir.join("releases");
    std::fs::create_dir_all(&releases)?;
    std::fs::create_dir_all(&id.home)?;
    for root_dir in [dir, releases.as_path()] {
        std::os::unix::fs::lchown(root_dir, Some(0), Some(id.gid))?;
        set_mode(root_dir, 0o710)?;
    }
    std::os::unix::fs::lchown(&id.home, Some(id.uid), Some(id.gid))?;
    set_mode(&id.home, 0o700)?;
    let generated = dir.join("generated");
    if generated.is_dir() {
        set_mode(&generated, 0o700)?;
    }
    for entry in std::fs::read_dir(&releases)? {
        let path = entry?.path();
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() && meta.uid() != id.uid {
            give(&path, id)?;
        }
    }
    Ok(())
}

/// Gives `dir` and everything in it to the user, deepest first: a folder stays root's until
/// its entries are done, so the user cannot swap one of them for a link meanwhile. Links
/// themselves are given, never followed.
fn give(dir: &Path, id: &Identity) -> io::Result<()> {
    fn walk(path: &Path, id: &Identity) -> io::Result<()> {
        let meta = std::fs::symlink_metadata(path)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(path)? {
                walk(&entry?.path(), id)?;
            }
        }
        std::os::unix::fs::lchown(path, Some(id.uid), Some(id.gid))
    }
    set_mode(dir, 0o700)?;
    walk(dir, id)
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests;
