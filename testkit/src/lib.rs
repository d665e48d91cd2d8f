//! Helpers the server, agent and CLI test suites all need, written once: a git repository in a
//! temp dir that tests commit apps into ([`Repo`], [`git`]), a free loopback port
//! ([`free_port`]), killing what a test's processes left behind ([`kill_processes_under`]), and
//! a tiny DNS server answering the records a test sets ([`dns::DnsServer`]), and a real ACME
//! CA, Debian's pebble ([`pebble::Pebble`]), and an OIDC issuer with its own keys
//! ([`oidc::Issuer`]).
//! A dev-dependency only; nothing shipped uses it.

pub mod dns;
pub mod oidc;
pub mod pebble;

use std::path::Path;
use std::process::Command;

/// A git repository (branch `main`) in a temp dir, removed with it.
pub struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("a temp dir for the repository");
        git(dir.path(), &["init", "-q", "-b", "main"]);
        Repo { dir }
    }

    /// The `file://` URL to clone it by.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the files (making their folders) and commits everything with `message`.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) {
        for (name, body) in files {
            let path = self.dir.path().join(name);
            let folder = path.parent().expect("a file inside the repository");
            std::fs::create_dir_all(folder).expect("create the file's folder");
            std::fs::write(path, body).expect("write the file");
        }
        git(self.dir.path(), &["add", "-A"]);
        git(self.dir.path(), &["commit", "-q", "-m", message]);
    }
}

impl Default for Repo {
    fn default() -> Repo {
        Repo::new()
    }
}

/// Runs `git ARGS` in `dir` as a throwaway committer, failing the test if git fails.
pub fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

/// A loopback port free right now. Another process may take it before the caller binds it,
/// so use it only for programs that must be told a port rather than given a socket.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// Every process, other than this one, whose working directory is inside `dir` or whose
/// command line names it (services run in their release directories).
pub fn processes_under(dir: &Path) -> Vec<u32> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let named = dir.to_string_lossy().into_owned();
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let in_dir =
            std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir));
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if in_dir || String::from_utf8_lossy(&cmdline).contains(&named) {
            found.push(pid);
        }
    }
    found
}

/// SIGKILLs every process [`processes_under`] `dir`, and deletes the service users made there
/// ([`remove_users_under`]): a stopped test must leave none of them
/// (or their shells) behind.
pub fn kill_processes_under(dir: &Path) {
    for pid in processes_under(dir) {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    remove_users_under(dir);
}

/// Deletes the system users whose home is inside `dir`: the users a dployrd running as root
/// made for its services there (a test's data dir), which would otherwise pile up in
/// `/etc/passwd` run after run.
pub fn remove_users_under(dir: &Path) {
    let Ok(passwd) = std::fs::read_to_string("/etc/passwd") else {
        return;
    };
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if let [name, .., home, _shell] = fields[..]
            && name.starts_with("dployr-svc-")
            && Path::new(home).starts_with(dir)
        {
            let _ = Command::new("userdel").args(["-f", name]).status();
        }
    }
}
