//! The Node.js package managers against real folders: which one each `packageManager` field
//! and lockfile chooses, corepack standing in for a missing Yarn or pnpm, a workspace root's
//! lockfile, and the `package-lock.json` sync check.

use std::ffi::OsString;

use serde_json::json;

use super::node_pm::npm_lock_drift;
use super::node_tests::{Files, NODE, host_with, node, pinned, runs};
use super::*;
use crate::deploy::test_files::write;

#[test]
fn each_lockfile_chooses_its_package_manager_and_frozen_install() {
    let cases: [(Files, &str, &str); 9] = [
        (&[], "npm install", "npm (no lockfile)"),
        (
            &[("package-lock.json", "{}")],
            "npm ci",
            "npm (package-lock.json)",
        ),
        (
            &[("npm-shrinkwrap.json", "{}")],
            "npm ci",
            "npm (npm-shrinkwrap.json)",
        ),
        (
            &[("pnpm-lock.yaml", ""), ("yarn.lock", "")],
            "pnpm install --frozen-lockfile",
            "pnpm via corepack (pnpm-lock.yaml)",
        ),
        (
            &[("yarn.lock", "# yarn lockfile v1\n")],
            "yarn install --frozen-lockfile",
            "yarn (classic) via corepack (yarn.lock)",
        ),
        (
            &[
                ("yarn.lock", ""),
                (".yarnrc.yml", "nodeLinker: node-modules\n"),
            ],
            "corepack yarn@4 install --immutable",
            "yarn 4 (berry) via corepack (yarn.lock and .yarnrc.yml)",
        ),
        (
            &[("yarn.lock", "__metadata:\n  version: 8\n")],
            "corepack yarn@4 install --immutable",
            "yarn 4 (berry) via corepack (yarn.lock with __metadata: (Yarn 2+))",
        ),
        (
            &[("bun.lockb", "")],
            "bun install --frozen-lockfile",
            "bun (bun.lockb)",
        ),
        (
            &[("bun.lock", "{}")],
            "bun install --frozen-lockfile",
            "bun (bun.lock)",
        ),
    ];
    for (files, install, manager) in cases {
        let mut files = files.to_vec();
        files.push(("package.json", "{}"));
        let (p, _dir) = node(&files, NODE);
        let build = runs(&p.build);
        assert_eq!(build.last(), Some(&install), "{files:?}");
        assert_eq!(p.package_manager.as_deref(), Some(manager), "{files:?}");
        assert!(p.build.iter().all(|s| !s.why.is_empty()), "{:?}", p.build);
    }
}

#[test]
fn package_manager_field_wins_over_lockfiles_and_corepack_provides_it() {
    let (p, dir) = node(
        &[
            (
                "package.json",
                r#"{"packageManager": "pnpm@9.12.0+sha512.abc", "scripts": {"build": "tsc", "start": "node ."}}"#,
            ),
            ("pnpm-lock.yaml", ""),
            ("yarn.lock", ""),
            ("package-lock.json", "{}"),
        ],
        NODE,
    );
    let bin = dir.path().join(".cache/corepack/bin");
    assert_eq!(
        runs(&p.build),
        [
            format!(
                "mkdir -p {0} && corepack enable --install-directory {0} pnpm",
                bin.display()
            )
            .as_str(),
            "pnpm install --frozen-lockfile",
            "pnpm run build"
        ]
    );
    assert_eq!(
        p.build[0].why,
        "pnpm is not installed on this instance; Node's corepack provides it"
    );
    assert_eq!(p.build[1].why, "packageManager in package.json");
    assert_eq!(p.start.as_ref().unwrap().run, "pnpm start");
    assert_eq!(
        p.package_manager.as_deref(),
        Some("pnpm 9.12.0 via corepack (packageManager in package.json)")
    );
    assert_eq!(p.toolchain, ["node", "corepack"]);
    assert_eq!(
        p.bin_dirs,
        [bin.display().to_string(), "node_modules/.bin".into()]
    );
    assert_eq!(
        p.env["COREPACK_HOME"],
        dir.path().join(".cache/corepack").display().to_string()
    );
    assert_eq!(p.env["COREPACK_NPM_REGISTRY"], "https://registry.npmjs.org");
    assert_eq!(p.env["COREPACK_ENABLE_DOWNLOAD_PROMPT"], "0");

    // Yarn 4 named in the field: berry's install, whatever the lockfile looks like.
    let (p, _dir) = pinned("yarn@4.5.1", "yarn.lock", NODE);
    assert_eq!(runs(&p.build)[1], "yarn install --immutable");
    assert_eq!(
        p.package_manager.as_deref(),
        Some("yarn 4.5.1 (berry) via corepack (packageManager in package.json)")
    );
    // Yarn 1 named in the field: classic.
    let (p, _dir) = pinned("yarn@1.22.22", "yarn.lock", NODE);
    assert_eq!(runs(&p.build)[1], "yarn install --frozen-lockfile");
    // npm named in the field over a yarn.lock; no lockfile of npm's: a plain install.
    let (p, _dir) = pinned("npm@10.9.0", "yarn.lock", NODE);
    assert_eq!(runs(&p.build), ["npm install"]);
    assert_eq!(p.toolchain, ["node", "npm"]);
    // A field dployr cannot read leaves it to the lockfiles.
    let (p, _dir) = pinned("deno@2", "pnpm-lock.yaml", NODE);
    assert_eq!(runs(&p.build)[1], "pnpm install --frozen-lockfile");
}

#[test]
fn an_installed_yarn_or_pnpm_is_used_unless_a_version_is_pinned() {
    let (p, _dir) = node(
        &[("package.json", "{}"), ("yarn.lock", "")],
        &["node", "yarn", "corepack"],
    );
    assert_eq!(runs(&p.build), ["yarn install --frozen-lockfile"]);
    assert_eq!(p.toolchain, ["node", "yarn"]);
    assert!(p.env.is_empty(), "{:?}", p.env);
    assert_eq!(
        p.package_manager.as_deref(),
        Some("yarn (classic) (yarn.lock)")
    );

    let (p, _dir) = pinned(
        "pnpm@9.12.0",
        "pnpm-lock.yaml",
        &["node", "pnpm", "corepack"],
    );
    assert!(
        p.build[0]
            .run
            .contains("&& corepack enable --install-directory"),
        "{:?}",
        p.build
    );
    assert_eq!(
        p.build[0].why,
        "packageManager pins pnpm 9.12.0; Node's corepack runs exactly that version"
    );
    // Without corepack, the installed one is all there is.
    let (p, _dir) = pinned("pnpm@9.12.0", "pnpm-lock.yaml", &["node", "pnpm"]);
    assert_eq!(runs(&p.build), ["pnpm install --frozen-lockfile"]);
    assert_eq!(p.toolchain, ["node", "pnpm"]);

    // Bun is not corepack's: the toolchain names it, with its own hint.
    let (p, _dir) = node(&[("package.json", "{}"), ("bun.lock", "")], NODE);
    assert_eq!(p.toolchain, ["bun"]);
    let err = crate::deploy::check_toolchain_in(&p.toolchain, "web-1", &OsString::from(""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("install Bun (https://bun.sh"), "{err}");
}

#[test]
fn a_workspace_root_lockfile_installs_at_the_root_and_builds_in_the_app() {
    let top = tempfile::tempdir().unwrap();
    write(
        top.path(),
        &[
            (
                "package.json",
                r#"{"private": true, "packageManager": "pnpm@9.12.0"}"#,
            ),
            ("pnpm-lock.yaml", ""),
            ("pnpm-workspace.yaml", "packages: ['apps/*']\n"),
            (
                "apps/web/package.json",
                r#"{"scripts": {"build": "tsc", "start": "node dist/main.js"}}"#,
            ),
        ],
    );
    let app = top.path().join("apps/web");
    let p = plan(Runtime::Node, &app, &host_with(top.path(), NODE));
    assert_eq!(
        runs(&p.build)[1..],
        [
            "cd ../.. && pnpm install --frozen-lockfile",
            "pnpm run build"
        ]
    );
    assert_eq!(
        p.build[1].why,
        "packageManager in ../../package.json; the install runs where the lockfile is"
    );

    // Lockfile alone, one folder up; nothing is looked for above the checkout.
    let top = tempfile::tempdir().unwrap();
    write(
        top.path(),
        &[
            ("yarn.lock", ""),
            ("repo/package-lock.json", "{}"),
            ("repo/api/package.json", "{}"),
        ],
    );
    let checkout = top.path().join("repo");
    let mut host = host_with(top.path(), NODE);
    host.checkout = checkout.clone();
    let p = plan(Runtime::Node, &checkout.join("api"), &host);
    assert_eq!(runs(&p.build), ["cd .. && npm ci"]);
    assert_eq!(
        p.package_manager.as_deref(),
        Some("npm (../package-lock.json)")
    );
    std::fs::remove_file(checkout.join("package-lock.json")).unwrap();
    let p = plan(Runtime::Node, &checkout.join("api"), &host);
    assert_eq!(runs(&p.build), ["npm install"], "the yarn.lock is outside");
}

#[test]
fn npm_ci_only_with_a_lockfile_in_sync() {
    let manifest = json!({
        "dependencies": {"express": "^4.21.0", "ms": "2.1.3"},
        "devDependencies": {"typescript": "~5.6.0"},
    });
    let lock = |root: serde_json::Value| json!({"lockfileVersion": 3, "packages": {"": root, "node_modules/ms": {"version": "2.1.3"}}});
    let synced = lock(json!({
        "dependencies": {"express": "^4.21.0", "ms": "2.1.3"},
        "devDependencies": {"typescript": "~5.6.0"},
    }));
    assert_eq!(npm_lock_drift(&manifest, &synced), None);
    let missing = lock(json!({
        "dependencies": {"ms": "2.1.3"},
        "devDependencies": {"typescript": "~5.6.0"},
    }));
    assert_eq!(
        npm_lock_drift(&manifest, &missing).as_deref(),
        Some("missing: express")
    );
    let changed = lock(json!({
        "dependencies": {"express": "^4.21.0", "ms": "2.1.2", "left-pad": "1.3.0"},
        "devDependencies": {"typescript": "~5.6.0"},
    }));
    assert_eq!(
        npm_lock_drift(&manifest, &changed).as_deref(),
        Some("changed: ms 2.1.2 → 2.1.3; no longer in package.json: left-pad")
    );
    // Version 1: names only.
    let v1 =
        json!({"lockfileVersion": 1, "dependencies": {"express": {"version": "4.0.0"}, "ms": {}}});
    assert_eq!(
        npm_lock_drift(&manifest, &v1).as_deref(),
        Some("missing: typescript")
    );
    assert_eq!(
        npm_lock_drift(&manifest, &serde_json::Value::Null).as_deref(),
        Some("it is not valid JSON")
    );

    // In a plan: the step, its reason and the warning in the log's notes.
    let (m, l) = (manifest.to_string(), missing.to_string());
    let (p, _dir) = node(&[("package.json", &m), ("package-lock.json", &l)], NODE);
    assert_eq!(runs(&p.build), ["npm install"]);
    assert_eq!(
        p.build[0].why,
        "package-lock.json out of sync with package.json"
    );
    assert_eq!(
        p.notes,
        [
            "warning: package-lock.json is out of sync with package.json (missing: express); \
          running npm install instead of npm ci"
        ]
    );
    assert!(p.describe().contains(&p.notes[0]));
    let l = synced.to_string();
    let (p, _dir) = node(&[("package.json", &m), ("package-lock.json", &l)], NODE);
    assert_eq!(runs(&p.build), ["npm ci"]);
    assert!(p.notes.is_empty(), "{:?}", p.notes);
}
