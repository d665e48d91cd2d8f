//! Which package manager a Node.js app uses, and why: the `packageManager` field of
//! `package.json` first, then the lockfile in the app's folder or in a folder above it up to the
//! top of the checkout (a workspace's root lockfile), then npm. Also whether a
//! `package-lock.json` still matches `package.json`, since `npm ci` refuses one that does not.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::read_json;

/// A Node.js package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tool {
    Npm,
    Yarn,
    Pnpm,
    Bun,
}

impl Tool {
    pub(super) fn name(self) -> &'static str {
        match self {
            Tool::Npm => "npm",
            Tool::Yarn => "yarn",
            Tool::Pnpm => "pnpm",
            Tool::Bun => "bun",
        }
    }

    /// The lockfiles this tool writes, the preferred one first.
    fn lockfiles(self) -> &'static [&'static str] {
        match self {
            Tool::Npm => &["package-lock.json", "npm-shrinkwrap.json"],
            Tool::Yarn => &["yarn.lock"],
            Tool::Pnpm => &["pnpm-lock.yaml"],
            Tool::Bun => &["bun.lock", "bun.lockb"],
        }
    }
}

/// Every lockfile, in the order a folder with several of them is read.
const LOCKFILES: [(&str, Tool); 6] = [
    ("pnpm-lock.yaml", Tool::Pnpm),
    ("yarn.lock", Tool::Yarn),
    ("bun.lock", Tool::Bun),
    ("bun.lockb", Tool::Bun),
    ("package-lock.json", Tool::Npm),
    ("npm-shrinkwrap.json", Tool::Npm),
];

/// A lockfile found for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lockfile {
    pub name: &'static str,
    /// The folder it is in.
    pub dir: PathBuf,
    /// How many folders above the app's folder that is (0: the app's own).
    pub up: usize,
}

impl Lockfile {
    /// The lockfile's path as the build log shows it, relative to the app's folder.
    pub(super) fn shown(&self) -> String {
        format!("{}{}", "../".repeat(self.up), self.name)
    }
}

/// The package manager chosen for an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PackageManager {
    pub tool: Tool,
    /// Yarn 2+ (`--immutable`, `.yarnrc.yml`) rather than Yarn 1.
    pub berry: bool,
    /// The version `packageManager` pins (`9.12.0`, without its `+sha512…` hash).
    pub version: Option<String>,
    pub lockfile: Option<Lockfile>,
    /// What chose it: `packageManager in package.json`, `yarn.lock and .yarnrc.yml`, ….
    pub why: String,
    /// Yarn 2+ with a `yarnPath` in `.yarnrc.yml`: any `yarn` runs the committed release.
    pub yarn_path: bool,
}

/// The app's folder and the folders above it, up to and including `checkout` (only the app's
/// folder when it is not inside `checkout`).
fn folders(dir: &Path, checkout: &Path) -> Vec<PathBuf> {
    if !dir.starts_with(checkout) {
        return vec![dir.to_path_buf()];
    }
    dir.ancestors()
        .take_while(|d| d.starts_with(checkout))
        .map(Path::to_path_buf)
        .collect()
}

/// `where` for a file `up` folders above the app's folder: `package.json`, `../../package.json`.
fn at(up: usize, name: &str) -> String {
    format!("{}{name}", "../".repeat(up))
}

pub(super) fn detect(dir: &Path, checkout: &Path) -> PackageManager {
    let folders = folders(dir, checkout);
    let declared = folders.iter().enumerate().find_map(|(up, d)| {
        let field = read_json(&d.join("package.json"))["packageManager"]
            .as_str()?
            .to_owned();
        Some((up, field))
    });
    if let Some((up, field)) = declared
        && let Some((tool, version)) = parse_package_manager(&field)
    {
        let lockfile = find_lockfile(&folders, tool.lockfiles());
        let berry = match (tool, &version) {
            (Tool::Yarn, Some(v)) => !v.starts_with("1."),
            (Tool::Yarn, None) => looks_like_berry(dir, lockfile.as_ref()),
            _ => false,
        };
        return PackageManager {
            tool,
            berry,
            version,
            yarn_path: berry && has_yarn_path(dir, lockfile.as_ref()),
            lockfile,
            why: format!("packageManager in {}", at(up, "package.json")),
        };
    }
    let all: Vec<&str> = LOCKFILES.iter().map(|(name, _)| *name).collect();
    let Some(lockfile) = find_lockfile(&folders, &all) else {
        return PackageManager {
            tool: Tool::Npm,
            berry: false,
            version: None,
            lockfile: None,
            why: "no lockfile".into(),
            yarn_path: false,
        };
    };
    let tool = LOCKFILES
        .iter()
        .find(|(name, _)| *name == lockfile.name)
        .map_or(Tool::Npm, |(_, tool)| *tool);
    let berry = tool == Tool::Yarn && looks_like_berry(dir, Some(&lockfile));
    let why = if !berry {
        lockfile.shown()
    } else if lockfile.dir.join(".yarnrc.yml").is_file() || dir.join(".yarnrc.yml").is_file() {
        format!("{} and .yarnrc.yml", lockfile.shown())
    } else {
        format!("{} with __metadata: (Yarn 2+)", lockfile.shown())
    };
    PackageManager {
        tool,
        berry,
        version: None,
        yarn_path: berry && has_yarn_path(dir, Some(&lockfile)),
        lockfile: Some(lockfile),
        why,
    }
}

/// `yarn@4.5.1`, `pnpm@9.12.0+sha512.abc…`, `npm@10`, `bun@1.1.0` → the tool and its version.
/// Anything else (an unknown tool, a URL) is not understood and the lockfiles decide.
pub(super) fn parse_package_manager(field: &str) -> Option<(Tool, Option<String>)> {
    let (name, version) = match field.trim().split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (field.trim(), None),
    };
    let tool = match name {
        "npm" => Tool::Npm,
        "yarn" => Tool::Yarn,
        "pnpm" => Tool::Pnpm,
        "bun" => Tool::Bun,
        _ => return None,
    };
    let version = version
        .map(|v| v.split('+').next().unwrap_or_default().to_owned())
        .filter(|v| !v.is_empty() && v.starts_with(|c: char| c.is_ascii_digit()));
    Some((tool, version))
}

fn find_lockfile(folders: &[PathBuf], names: &[&'static str]) -> Option<Lockfile> {
    folders.iter().enumerate().find_map(|(up, d)| {
        names
            .iter()
            .find(|name| d.join(name).is_file())
            .map(|name| Lockfile {
                name,
                dir: d.clone(),
                up,
            })
    })
}

/// Yarn 2+ when there is a `.yarnrc.yml` (by the lockfile or in the app's folder) or the
/// lockfile has the `__metadata:` header Yarn 1 never writes.
fn looks_like_berry(dir: &Path, lockfile: Option<&Lockfile>) -> bool {
    let lock_dir = lockfile.map_or(dir, |l| l.dir.as_path());
    if dir.join(".yarnrc.yml").is_file() || lock_dir.join(".yarnrc.yml").is_file() {
        return true;
    }
    lockfile.is_some_and(|l| {
        std::fs::read_to_string(l.dir.join(l.name))
            .is_ok_and(|text| text.lines().any(|line| line.starts_with("__metadata:")))
    })
}

fn has_yarn_path(dir: &Path, lockfile: Option<&Lockfile>) -> bool {
    let lock_dir = lockfile.map_or(dir, |l| l.dir.as_path());
    [dir, lock_dir].iter().any(|d| {
        std::fs::read_to_string(d.join(".yarnrc.yml"))
            .is_ok_and(|text| text.lines().any(|line| line.starts_with("yarnPath:")))
    })
}

const SECTIONS: [&str; 3] = ["dependencies", "devDependencies", "optionalDependencies"];

/// The `(name, range)` of every dependency `package` (a `package.json`, or a lockfile's entry
/// for one) declares in [`SECTIONS`].
fn dependency_ranges(package: &Value) -> Vec<(&str, &str)> {
    SECTIONS
        .iter()
        .filter_map(|s| package[s].as_object())
        .flatten()
        .map(|(name, range)| (name.as_str(), range.as_str().unwrap_or_default()))
        .collect()
}

/// How `lock` (a `package-lock.json` or `npm-shrinkwrap.json`) differs from `manifest` (the
/// `package.json` beside it), in the words of the build log's warning; `None` when `npm ci`
/// can use it. Lockfile v2+ records the root's own ranges in `packages[""]`: every one of
/// `package.json`'s must be there, the same, and nothing else. A v1 lockfile only names the
/// installed packages, so only the names are checked.
pub(super) fn npm_lock_drift(manifest: &Value, lock: &Value) -> Option<String> {
    if !lock.is_object() {
        return Some("it is not valid JSON".into());
    }
    let wanted = dependency_ranges(manifest);
    let (mut missing, mut changed, mut extra) = (Vec::new(), Vec::new(), Vec::new());
    if lock["lockfileVersion"].as_u64().unwrap_or(1) >= 2 {
        let locked = dependency_ranges(&lock["packages"][""]);
        for (name, range) in &wanted {
            match locked.iter().find(|(n, _)| n == name) {
                None => missing.push(name.to_string()),
                Some((_, r)) if r != range => changed.push(format!("{name} {r} → {range}")),
                Some(_) => {}
            }
        }
        for (name, _) in &locked {
            if !wanted.iter().any(|(n, _)| n == name) {
                extra.push(name.to_string());
            }
        }
    } else {
        let deps = &lock["dependencies"];
        for (name, _) in &wanted {
            if deps.get(name).is_none() {
                missing.push(name.to_string());
            }
        }
    }
    let mut parts = Vec::new();
    for (label, names) in [
        ("missing", missing),
        ("changed", changed),
        ("no longer in package.json", extra),
    ] {
        if !names.is_empty() {
            parts.push(format!("{label}: {}", names.join(", ")));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
