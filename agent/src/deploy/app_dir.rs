//! Where in a checkout the app lives: the service's root directory (a monorepo's `api/`), and the
//! `dployr.toml` settings that apply there. Detection, build, start, static files, the file
//! explorer and the console all start from the folder this returns, never above it.
//!
//! The root comes from the service's settings or, when they name none, from a `root_dir` key in
//! the repository's top-level `dployr.toml`; the `dployr.toml` inside the root then applies over
//! the top-level one. A root that is missing, not a folder, or a symlink leading out of the
//! checkout fails the deploy with the reason.

use std::path::{Path, PathBuf};

use proto::service::{ServiceSpec, check_root_dir};

use super::repo_config::{self, FILE};

/// The app's folder in a checkout, and the spec with every `dployr.toml` applied.
#[derive(Debug)]
pub struct Settled {
    pub dir: PathBuf,
    pub spec: ServiceSpec,
    /// The settings the files changed, for the build log (`dployr.toml sets: start, port`).
    pub changed: Vec<&'static str>,
}

/// Finds the app's folder in `checkout` and applies the `dployr.toml` files that concern it.
pub fn settle(checkout: &Path, spec: &ServiceSpec) -> Result<Settled, String> {
    let mut spec = spec.clone();
    let mut changed = Vec::new();
    let from_settings = spec.root_dir.clone();
    if from_settings.is_none()
        && let Some(top) = repo_config::load(checkout)?
    {
        let (next, set) = top.apply(&spec)?;
        spec = next;
        changed.extend(set);
    }
    let Some(root) = spec.root_dir.clone() else {
        return Ok(Settled {
            dir: checkout.to_path_buf(),
            spec,
            changed,
        });
    };
    let dir = resolve(checkout, &root)?;
    if let Some(inner) = repo_config::load(&dir).map_err(|e| format!("{root}/{e}"))? {
        if inner.root_dir.is_some() {
            let set_by = if from_settings.is_some() {
                "the service's settings"
            } else {
                "the top-level dployr.toml"
            };
            return Err(format!(
                "{root}/{FILE} sets root_dir, but {set_by} already made {root} the root \
                 directory; remove it from {root}/{FILE}"
            ));
        }
        let (next, set) = inner.apply(&spec)?;
        spec = next;
        changed.extend(set);
    }
    Ok(Settled { dir, spec, changed })
}

/// `checkout/root`, which must be a folder inside the checkout once symlinks are followed.
pub fn resolve(checkout: &Path, root: &str) -> Result<PathBuf, String> {
    let root = check_root_dir(root)
        .map_err(|e| format!("root_dir: {e}"))?
        .unwrap_or_default();
    let top = checkout
        .canonicalize()
        .map_err(|e| format!("{}: {e}", checkout.display()))?;
    let dir = match top.join(&root).canonicalize() {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "root directory {root:?} is not in the repository at this commit"
            ));
        }
        Err(e) => return Err(format!("root directory {root:?}: {e}")),
    };
    if !dir.starts_with(&top) {
        return Err(format!(
            "root directory {root:?} is a link that leads out of the repository"
        ));
    }
    if !dir.is_dir() {
        return Err(format!("root directory {root:?} is a file, not a folder"));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::service::Runtime;

    use crate::deploy::test_files::dir_with;

    fn spec(root_dir: Option<&str>) -> ServiceSpec {
        ServiceSpec {
            root_dir: root_dir.map(Into::into),
            kind: None,
            runtime_version: None,
            ..repo_config::tests::spec()
        }
    }

    #[test]
    fn without_a_root_the_app_is_the_whole_checkout() {
        let repo = dir_with(&[(FILE, "runtime = \"go\"\n")]);
        let s = settle(repo.path(), &spec(None)).unwrap();
        assert_eq!(s.dir, repo.path());
        assert_eq!(s.spec.runtime, Some(Runtime::Go));
        assert_eq!(s.changed, ["runtime"]);
    }

    #[test]
    fn the_settings_root_reads_only_the_dployr_toml_inside_it() {
        let repo = dir_with(&[
            (FILE, "runtime = \"go\"\n"),
            ("apps/web/dployr.toml", "start = \"node web.js\"\n"),
        ]);
        let s = settle(repo.path(), &spec(Some("apps/web"))).unwrap();
        assert_eq!(s.dir, repo.path().canonicalize().unwrap().join("apps/web"));
        assert_eq!(s.spec.runtime, None, "the top-level file is another app's");
        assert_eq!(s.spec.start_command.as_deref(), Some("node web.js"));
    }

    #[test]
    fn a_top_level_file_can_name_the_root_and_the_inner_file_wins() {
        let repo = dir_with(&[
            (
                FILE,
                "root_dir = \"api\"\nruntime = \"python\"\nstart = \"top\"\n",
            ),
            ("api/dployr.toml", "start = \"inner\"\n"),
        ]);
        let s = settle(repo.path(), &spec(None)).unwrap();
        assert!(s.dir.ends_with("api"));
        assert_eq!(s.spec.root_dir.as_deref(), Some("api"));
        assert_eq!(s.spec.runtime, Some(Runtime::Python));
        assert_eq!(s.spec.start_command.as_deref(), Some("inner"));
        assert_eq!(s.changed, ["root_dir", "runtime", "start", "start"]);
    }

    #[test]
    fn roots_that_are_missing_files_links_out_or_set_twice_fail_with_the_reason() {
        let repo = dir_with(&[("README", "x"), ("web/dployr.toml", "root_dir = \"x\"\n")]);
        std::os::unix::fs::symlink("/etc", repo.path().join("escape")).unwrap();
        std::os::unix::fs::symlink("web", repo.path().join("inside")).unwrap();
        for (root, says) in [
            ("nope", "not in the repository"),
            ("README", "a file, not a folder"),
            ("escape", "leads out of the repository"),
            ("../up", "climb out"),
            ("web", "sets root_dir"),
        ] {
            let e = settle(repo.path(), &spec(Some(root))).unwrap_err();
            assert!(e.contains(says), "{root}: {e}");
        }
        // A link that stays inside the checkout is just another name for the folder.
        let e = settle(repo.path(), &spec(Some("inside"))).unwrap_err();
        assert!(e.contains("sets root_dir"), "{e}");
    }
}
