//! Gets a release's source: one exact commit of a git repository, written into the release
//! directory without `.git`. A bare mirror per repository in the cache makes later deploys fetch
//! only what is new, and resolving the ref once to a full sha means the build, the logs and a
//! later rollback all name the same commit even if the branch moves meanwhile.
//!
//! It runs the `git` CLI through [`super::process`], so the user's credentials helpers, SSH
//! config and proxies work as they do for them, and a hung fetch is killed like a hung build.
//! Not handled yet: submodules and Git LFS files (they arrive as pointers).
//!
//! The mirror holds branches and tags only ([`REFSPECS`]), not every ref the server has: on
//! GitHub `refs/pull/*` holds anyone's fork PRs, and a commit there must not be deployable by
//! its sha (audit L10). The URL is given to each fetch rather than stored in the mirror's
//! config, so its credentials are not kept on disk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use proto::redact::redact_git_url;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::process::{self, CancellationToken, Exit, LogLine, ShellCommand, Stream, quote};

/// Per git command. Generous for a first clone of a large repository over a slow link; a hung
/// connection still ends.
pub const GIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// What a mirror fetches: branches and tags, nothing else (no `refs/pull/*`, no `refs/changes/*`).
pub const REFSPECS: &str = "'+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("invalid repository URL {0:?}")]
    BadUrl(String),
    #[error("invalid git ref {0:?}")]
    BadRef(String),
    /// Cloning or fetching failed; `detail` is git's last error line.
    #[error("could not fetch {url}: {detail}")]
    Fetch { url: String, detail: String },
    #[error("{git_ref:?} is not a branch, tag or commit of {url}")]
    UnknownRef { url: String, git_ref: String },
    /// Writing the commit's files into the release failed.
    #[error("could not write commit {commit} into {dest}: {detail}")]
    Checkout {
        commit: String,
        dest: PathBuf,
        detail: String,
    },
    #[error("git timed out after {0:?}")]
    TimedOut(Duration),
    #[error("fetch cancelled")]
    Cancelled,
    #[error("could not run git: {0}")]
    Io(#[from] std::io::Error),
}

/// Fetches `git_ref` (a branch, a tag or a commit sha) of `repo_url` into `cache_dir`'s mirror
/// of that repository and writes that commit's files into `dest_dir`, which must not exist yet
/// or be empty. Returns the commit's full sha. Git's progress and errors go to `logs`, with any
/// password in the URL replaced by `[redacted]`.
///
/// Two fetches of the same repository must not run at once (git's ref locks would fail one of
/// them); the orchestrator deploys one release of a service at a time.
pub async fn fetch(
    repo_url: &str,
    git_ref: &str,
    cache_dir: &Path,
    dest_dir: &Path,
    logs: &mpsc::Sender<LogLine>,
    cancel: &CancellationToken,
) -> Result<String, FetchError> {
    // A leading `-` would make git read the argument as an option (`--upload-pack=...`).
    if repo_url.is_empty() || repo_url.starts_with('-') || repo_url.contains(char::is_whitespace) {
        return Err(FetchError::BadUrl(redact_git_url(repo_url)));
    }
    if git_ref.is_empty() || git_ref.starts_with('-') || git_ref.contains(char::is_whitespace) {
        return Err(FetchError::BadRef(git_ref.to_owned()));
    }
    std::fs::create_dir_all(cache_dir)?;
    let git = Git {
        dir: cache_dir,
        logs,
        cancel,
        secret: url_secret(repo_url),
    };
    let shown_url = redact_git_url(repo_url);
    let fetch_failed = |out: GitOutput| FetchError::Fetch {
        url: shown_url.clone(),
        detail: out.last_error(),
    };

    let name = &hex::encode(Sha256::digest(repo_url))[..16];
    // `<name>.git` was a `git clone --mirror` with every ref of the server: fetched again, it
    // would keep them, so it goes.
    let all_refs = cache_dir.join(format!("{name}.git"));
    if all_refs.is_dir() {
        std::fs::remove_dir_all(&all_refs)?;
    }
    let mirror = cache_dir.join(format!("{name}.heads.git"));
    let fetch_into = |dir: &Path| {
        format!(
            "git --git-dir={} fetch --prune --no-tags {} {REFSPECS}",
            quote_path(dir),
            quote(repo_url)
        )
    };
    if mirror.is_dir() {
        let out = git.run(&fetch_into(&mirror)).await?;
        if !out.ok {
            return Err(fetch_failed(out));
        }
    } else {
        // Made beside and renamed, so an interrupted first fetch never looks like a mirror.
        let partial = mirror.with_extension("partial");
        if partial.exists() {
            std::fs::remove_dir_all(&partial)?;
        }
        let script = format!(
            "git init -q --bare {} && {}",
            quote_path(&partial),
            fetch_into(&partial)
        );
        let out = git.run(&script).await?;
        if !out.ok {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(fetch_failed(out));
        }
        std::fs::rename(&partial, &mirror)?;
    }

    // `^{commit}` peels annotated tags; `--end-of-options` keeps the ref from being an option.
    let script = format!(
        "git --git-dir={} rev-parse --verify --quiet --end-of-options {}",
        quote_path(&mirror),
        quote(&format!("{git_ref}^{{commit}}"))
    );
    let out = git.run(&script).await?;
    let commit = match out.stdout.first() {
        Some(sha) if out.ok && sha.len() >= 40 && sha.chars().all(|c| c.is_ascii_hexdigit()) => {
            sha.clone()
        }
        _ => {
            return Err(FetchError::UnknownRef {
                url: shown_url,
                git_ref: git_ref.to_owned(),
            });
        }
    };

    std::fs::create_dir_all(dest_dir)?;
    if std::fs::read_dir(dest_dir)?.next().is_some() {
        return Err(FetchError::Checkout {
            commit,
            dest: dest_dir.to_owned(),
            detail: "the directory is not empty".into(),
        });
    }
    // Through a file rather than a pipe: `sh` has no pipefail, and a failed `git archive`
    // piped into `tar` could look like an empty but successful checkout.
    let tar = mirror.with_extension(format!("{commit}.tar"));
    let script = format!(
        "git --git-dir={m} archive --format=tar -o {t} {commit} && tar -xf {t} -C {d}",
        m = quote_path(&mirror),
        t = quote_path(&tar),
        d = quote_path(dest_dir),
    );
    let out = git.run(&script).await;
    let _ = std::fs::remove_file(&tar);
    let out = out?;
    if !out.ok {
        return Err(FetchError::Checkout {
            commit,
            dest: dest_dir.to_owned(),
            detail: out.last_error(),
        });
    }
    Ok(commit)
}

struct Git<'a> {
    dir: &'a Path,
    logs: &'a mpsc::Sender<LogLine>,
    cancel: &'a CancellationToken,
    /// The URL's password, kept out of the logs and errors.
    secret: Option<String>,
}

struct GitOutput {
    ok: bool,
    stdout: Vec<String>,
    stderr: Vec<String>,
}

impl GitOutput {
    fn last_error(&self) -> String {
        let error = self.stderr.iter().rev().find(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("fatal:") || l.starts_with("error:")
        });
        error
            .or(self.stderr.last())
            .cloned()
            .unwrap_or_else(|| "git failed without a message".into())
    }
}

impl Git<'_> {
    /// Runs a git script with prompts off (a missing credential is an error, not a hang), and
    /// returns its output after forwarding it to the deploy log.
    async fn run(&self, script: &str) -> Result<GitOutput, FetchError> {
        let cmd = ShellCommand::new(script, self.dir).env("GIT_TERMINAL_PROMPT", "0");
        let (tx, mut rx) = mpsc::channel::<LogLine>(64);
        let collect = async {
            let mut output = GitOutput {
                ok: false,
                stdout: Vec::new(),
                stderr: Vec::new(),
            };
            while let Some(mut line) = rx.recv().await {
                if let Some(secret) = &self.secret {
                    line.line = line.line.replace(secret.as_str(), "[redacted]");
                }
                match line.stream {
                    Stream::Stdout => output.stdout.push(line.line.clone()),
                    Stream::Stderr => output.stderr.push(line.line.clone()),
                }
                // The deploy log may be gone (nobody watching); the fetch goes on.
                let _ = self.logs.send(line).await;
            }
            output
        };
        let (exit, mut output) =
            tokio::join!(process::run(&cmd, tx, GIT_TIMEOUT, self.cancel), collect);
        match exit? {
            Exit::TimedOut => Err(FetchError::TimedOut(GIT_TIMEOUT)),
            Exit::Cancelled => Err(FetchError::Cancelled),
            exit => {
                output.ok = exit.success();
                Ok(output)
            }
        }
    }
}

/// The credential in a repository URL, scrubbed from git's output: its password, or over HTTP(S)
/// a user name alone (a token), as [`redact_git_url`] hides them.
fn url_secret(repo_url: &str) -> Option<String> {
    let url = url::Url::parse(repo_url).ok()?;
    match url.password() {
        Some(password) => Some(password.to_owned()),
        None if matches!(url.scheme(), "http" | "https") && !url.username().is_empty() => {
            Some(url.username().to_owned())
        }
        None => None,
    }
}

fn quote_path(path: &Path) -> String {
    quote(&path.to_string_lossy())
}

#[cfg(test)]
mod tests;
