use std::process::Command;

use super::*;

/// A real repository in a temp dir, changed with the real `git` CLI.
struct Origin {
    dir: tempfile::TempDir,
}

impl Origin {
    fn new() -> Origin {
        let origin = Origin {
            dir: tempfile::tempdir().unwrap(),
        };
        origin.git(&["init", "-q", "-b", "main"]);
        origin
    }

    fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Writes `files` and commits them; returns the commit's sha.
    fn commit(&self, files: &[(&str, &str)]) -> String {
        for (name, contents) in files {
            std::fs::write(self.dir.path().join(name), contents).unwrap();
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", "change"]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// The cache and the releases of one agent.
struct Agent {
    cache: tempfile::TempDir,
    releases: tempfile::TempDir,
}

impl Agent {
    fn new() -> Agent {
        Agent {
            cache: tempfile::tempdir().unwrap(),
            releases: tempfile::tempdir().unwrap(),
        }
    }

    async fn fetch(&self, url: &str, git_ref: &str, release: &str) -> Result<String, FetchError> {
        let (tx, mut rx) = mpsc::channel(16);
        // Drained concurrently so git's progress never waits on a full channel.
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let dest = self.releases.path().join(release);
        let result = fetch(
            url,
            git_ref,
            self.cache.path(),
            &dest,
            &tx,
            &CancellationToken::new(),
        )
        .await;
        drop(tx);
        drain.await.unwrap();
        result
    }

    fn read(&self, release: &str, file: &str) -> String {
        std::fs::read_to_string(self.releases.path().join(release).join(file)).unwrap()
    }

    fn mirrors(&self) -> usize {
        std::fs::read_dir(self.cache.path()).unwrap().count()
    }
}

#[tokio::test]
async fn fetches_a_branch_an_annotated_tag_and_a_commit_sha() {
    let origin = Origin::new();
    origin.commit(&[("app.txt", "one"), ("run.sh", "#!/bin/sh\n")]);
    origin.git(&["update-index", "--chmod=+x", "run.sh"]);
    origin.git(&["commit", "-q", "-m", "executable"]);
    let v1 = origin.git(&["rev-parse", "HEAD"]);
    origin.git(&["tag", "-a", "v1", "-m", "release 1"]);
    let main = origin.commit(&[("app.txt", "two")]);
    origin.git(&["checkout", "-q", "-b", "feature"]);
    let feature = origin.commit(&[("feature.txt", "f")]);
    origin.git(&["checkout", "-q", "main"]);

    let agent = Agent::new();
    assert_eq!(agent.fetch(&origin.url(), "main", "a").await.unwrap(), main);
    assert_eq!(agent.read("a", "app.txt"), "two");
    assert!(
        !agent.releases.path().join("a/.git").exists(),
        "a release has no .git"
    );
    assert!(!agent.releases.path().join("a/feature.txt").exists());

    assert_eq!(agent.fetch(&origin.url(), "v1", "b").await.unwrap(), v1);
    assert_eq!(agent.read("b", "app.txt"), "one");
    let mode = std::fs::metadata(agent.releases.path().join("b/run.sh")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_ne!(
        mode.permissions().mode() & 0o100,
        0,
        "the executable bit is kept"
    );

    assert_eq!(
        agent.fetch(&origin.url(), &feature, "c").await.unwrap(),
        feature
    );
    assert_eq!(agent.read("c", "feature.txt"), "f");
    assert_eq!(
        agent
            .fetch(&origin.url(), &feature[..10], "d")
            .await
            .unwrap(),
        feature
    );
    assert_eq!(
        agent.mirrors(),
        1,
        "one mirror serves every fetch of a repository"
    );
}

#[tokio::test]
async fn a_later_fetch_sees_new_commits_and_deleted_branches() {
    let origin = Origin::new();
    origin.commit(&[("app.txt", "one")]);
    origin.git(&["branch", "old"]);
    let agent = Agent::new();
    agent.fetch(&origin.url(), "main", "a").await.unwrap();

    let next = origin.commit(&[("app.txt", "two")]);
    origin.git(&["branch", "-D", "old"]);
    assert_eq!(agent.fetch(&origin.url(), "main", "b").await.unwrap(), next);
    assert_eq!(agent.read("b", "app.txt"), "two");
    let err = agent.fetch(&origin.url(), "old", "c").await.unwrap_err();
    assert!(
        matches!(err, FetchError::UnknownRef { .. }),
        "pruned: {err}"
    );
}

#[tokio::test]
async fn an_unknown_ref_names_the_ref_and_the_repository() {
    let origin = Origin::new();
    origin.commit(&[("app.txt", "one")]);
    let err = Agent::new()
        .fetch(&origin.url(), "no-such-branch", "a")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "\"no-such-branch\" is not a branch, tag or commit of {}",
            origin.url()
        )
    );
    let err = Agent::new()
        .fetch(&origin.url(), "--upload-pack=x", "a")
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::BadRef(_)), "{err}");
}

#[tokio::test]
async fn a_bad_url_says_what_git_said_and_leaves_no_mirror() {
    let agent = Agent::new();
    let missing = tempfile::tempdir().unwrap().path().join("nothing-here");
    let url = format!("file://{}", missing.display());
    let err = agent.fetch(&url, "main", "a").await.unwrap_err();
    let FetchError::Fetch { detail, .. } = &err else {
        panic!("expected a fetch error, got {err}");
    };
    assert!(detail.starts_with("fatal:"), "{detail}");
    assert!(
        err.to_string()
            .starts_with(&format!("could not fetch {url}: fatal:")),
        "{err}"
    );
    assert_eq!(agent.mirrors(), 0);

    let err = agent
        .fetch("--upload-pack=touch /tmp/x", "main", "a")
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::BadUrl(_)), "{err}");
}

#[test]
fn passwords_in_urls_are_never_shown() {
    assert_eq!(
        redact_git_url("https://bot:s3cret@git.example.com/a/b.git"),
        "https://bot:redacted@git.example.com/a/b.git"
    );
    assert_eq!(
        redact_git_url("git@github.com:a/b.git"),
        "git@github.com:a/b.git"
    );
}

#[tokio::test]
async fn l10_pull_request_refs_are_not_fetched() {
    let origin = Origin::new();
    let main = origin.commit(&[("app.txt", "reviewed")]);
    // A fork's pull request: its commit is reachable only from refs/pull/1/head, as on GitHub.
    origin.git(&["checkout", "-q", "-b", "fork"]);
    let pr = origin.commit(&[("app.txt", "unreviewed")]);
    origin.git(&["update-ref", "refs/pull/1/head", &pr]);
    origin.git(&["checkout", "-q", "main"]);
    origin.git(&["branch", "-q", "-D", "fork"]);

    let agent = Agent::new();
    // A mirror an older dployrd cloned with every ref is replaced, not fetched into.
    let name = &hex::encode(Sha256::digest(origin.url()))[..16];
    let old = agent.cache.path().join(format!("{name}.git"));
    let out = Command::new("git")
        .args(["clone", "-q", "--mirror", &origin.url()])
        .arg(&old)
        .output()
        .unwrap();
    assert!(out.status.success());

    assert_eq!(agent.fetch(&origin.url(), "main", "a").await.unwrap(), main);
    assert!(!old.exists(), "the all-refs mirror is gone");
    for git_ref in [pr.as_str(), "refs/pull/1/head", "pull/1/head"] {
        let err = agent.fetch(&origin.url(), git_ref, "b").await.unwrap_err();
        assert!(
            matches!(err, FetchError::UnknownRef { .. }),
            "{git_ref}: {err}"
        );
    }
    let refs = Command::new("git")
        .arg(format!(
            "--git-dir={}",
            agent
                .cache
                .path()
                .join(format!("{name}.heads.git"))
                .display()
        ))
        .args(["for-each-ref", "--format=%(refname)"])
        .output()
        .unwrap();
    let refs = String::from_utf8(refs.stdout).unwrap();
    assert_eq!(refs.trim(), "refs/heads/main", "only branches and tags");
}
