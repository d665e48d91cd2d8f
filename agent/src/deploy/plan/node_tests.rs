//! The Node.js plans against real folders: the Next.js, Vite and Create React App conventions,
//! and the helpers the package manager tests ([`super::node_pm_tests`]) share.

use std::ffi::OsString;

use serde_json::json;

use super::*;
use crate::deploy::test_files::{script, write};

/// A host whose `PATH` holds exactly `tools` (executable files in a folder of their own).
pub(super) fn host_with(top: &Path, tools: &[&str]) -> Host {
    let bin = top.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in tools {
        script(&bin, tool, "");
    }
    Host {
        path: OsString::from(bin),
        cache_dir: top.join(".cache"),
        checkout: top.to_path_buf(),
        python: "python3".into(),
    }
}

/// The plan for an app made of `files`, on a host with only `tools` installed.
pub(super) fn node(files: &[(&str, &str)], tools: &[&str]) -> (Plan, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let p = plan(Runtime::Node, dir.path(), &host_with(dir.path(), tools));
    (p, dir)
}

pub(super) fn runs(steps: &[Step]) -> Vec<&str> {
    steps.iter().map(|s| s.run.as_str()).collect()
}

pub(super) const NODE: &[&str] = &["node", "npm", "npx", "corepack"];

/// The plan for an app whose `package.json` names `package_manager` in its `packageManager`
/// field, beside an empty `lockfile`, on a host with only `tools`.
pub(super) fn pinned(
    package_manager: &str,
    lockfile: &str,
    tools: &[&str],
) -> (Plan, tempfile::TempDir) {
    let manifest = json!({ "packageManager": package_manager }).to_string();
    node(&[("package.json", &manifest), (lockfile, "")], tools)
}

pub(super) type Files<'a> = &'a [(&'a str, &'a str)];

#[test]
fn nextjs_starts_with_next_start_and_its_own_scripts_win() {
    let (p, _dir) = node(
        &[(
            "package.json",
            r#"{"dependencies": {"next": "15.0.0", "react": "19.0.0"}}"#,
        )],
        NODE,
    );
    assert_eq!(runs(&p.build), ["npm install", "npx next build"]);
    assert_eq!(p.start.unwrap().run, "npx next start -p $PORT");
    assert_eq!(p.kind, ServiceKind::Web);
    assert_eq!(p.notes, ["framework: Next.js (next start listens on PORT)"]);

    let (p, _dir) = node(
        &[(
            "package.json",
            r#"{"dependencies": {"next": "15.0.0"}, "scripts": {"build": "next build", "start": "next start"}}"#,
        )],
        NODE,
    );
    assert_eq!(runs(&p.build), ["npm install", "npm run build"]);
    assert_eq!(p.start.unwrap().run, "npm start");
}

#[test]
fn vite_and_create_react_app_sites_without_a_server_are_static() {
    let vite =
        r#"{"scripts": {"build": "tsc -b && vite build"}, "devDependencies": {"vite": "5"}}"#;
    let (p, _dir) = node(&[("package.json", vite)], NODE);
    assert_eq!(p.kind, ServiceKind::Static);
    assert_eq!(p.static_dir.as_deref(), Some("dist"));
    assert_eq!(p.start, None);
    assert_eq!(runs(&p.build), ["npm install", "npm run build"]);
    assert!(
        p.describe().contains(
            &"framework: Vite (static site from dist/: no start script, main or server.js)".into()
        ),
        "{:?}",
        p.describe()
    );
    assert!(
        p.describe()
            .contains(&"serve: dist/ as a static site".into())
    );

    let (p, _dir) = node(
        &[(
            "package.json",
            r#"{"scripts": {"build": "vite build --outDir public/"}}"#,
        )],
        NODE,
    );
    assert_eq!(p.static_dir.as_deref(), Some("public"));

    let cra = r#"{"scripts": {"build": "react-scripts build", "test": "react-scripts test"}}"#;
    let (p, _dir) = node(&[("package.json", cra)], NODE);
    assert_eq!(p.kind, ServiceKind::Static);
    assert_eq!(p.static_dir.as_deref(), Some("build"));

    // A server of its own (start script, server.js, Procfile web:) keeps it a service.
    for extra in [("server.js", ""), ("Procfile", "web: node serve.js\n")] {
        let (p, _dir) = node(&[("package.json", vite), extra], NODE);
        assert_eq!(p.kind, ServiceKind::Web, "{extra:?}");
        assert_eq!(p.static_dir, None, "{extra:?}");
    }
    let (p, _dir) = node(
        &[(
            "package.json",
            r#"{"scripts": {"build": "vite build", "start": "vite preview --port $PORT"}}"#,
        )],
        NODE,
    );
    assert_eq!(p.kind, ServiceKind::Web);

    // The user's start command makes the site a service again.
    let (p, _dir) = node(&[("package.json", vite)], NODE);
    let p = p.with_overrides(&Overrides {
        build_command: None,
        start_command: Some("npx vite preview --port $PORT".into()),
        kind: None,
    });
    assert_eq!(p.kind, ServiceKind::Web);
    assert_eq!(p.static_dir, None);
    assert_eq!(p.start.unwrap().run, "npx vite preview --port $PORT");
}
