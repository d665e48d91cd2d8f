//! Node.js: the package manager `packageManager` or the lockfile names (Yarn and pnpm through
//! Node's corepack when the instance lacks them), its install (in the workspace root when the
//! lockfile is there), the `build` script, and `start` (or `main`, or `server.js`, as `npm start`
//! itself falls back). Next.js starts with `next start`; a Vite or Create React App site with no
//! server is served as a static site from its build folder.

use std::path::Path;

use proto::service::ServiceKind;

use super::node_pm::{self, PackageManager, Tool};
use super::{Host, Plan, Procfile, Step, read_json};
use crate::deploy::process::quote;

/// Where corepack fetches package managers from when dployrd provides them. Corepack's own
/// default for Yarn 2+ is repo.yarnpkg.com; with a registry set it takes `@yarnpkg/cli-dist`
/// from npm, the one registry every Node.js instance already needs.
const NPM_REGISTRY: &str = "https://registry.npmjs.org";

pub(super) fn plan(dir: &Path, host: &Host) -> Plan {
    let pm = node_pm::detect(dir, &host.checkout);
    let manifest = read_json(&dir.join("package.json"));
    let mut plan = Plan::empty(ServiceKind::Web);
    let (cli, via_corepack) = provide(&pm, host, &mut plan);
    plan.build.push(install(&pm, &cli, &mut plan.notes));

    let script = |name: &str| manifest["scripts"][name].as_str();
    let has_dep = |name: &str| {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|s| manifest[s][name].is_string())
    };
    let run = |script: &str| match pm.tool {
        Tool::Bun => format!("bun run {script}"),
        _ => format!("{cli} run {script}"),
    };
    let start_script = || match pm.tool {
        Tool::Bun => "bun run start".to_owned(),
        _ => format!("{cli} start"),
    };
    if script("build").is_some() {
        plan.build
            .push(Step::new(run("build"), "scripts.build in package.json"));
    }
    plan.start = if script("start").is_some() {
        Some(Step::new(start_script(), "scripts.start in package.json"))
    } else if let Some(main) = manifest["main"].as_str() {
        Some(Step::new(
            format!("node {}", quote(main)),
            "main in package.json",
        ))
    } else if dir.join("server.js").is_file() {
        // What `npm start` itself runs when there is no start script.
        Some(Step::new(
            "node server.js",
            "server.js, as npm start runs it",
        ))
    } else {
        None
    };

    if has_dep("next") {
        plan.notes
            .push("framework: Next.js (next start listens on PORT)".into());
        if script("build").is_none() {
            plan.build.push(Step::new(
                "npx next build",
                "next in package.json and no scripts.build",
            ));
        }
        if script("start").is_none() {
            plan.start = Some(Step::new(
                "npx next start -p $PORT",
                "next in package.json and no scripts.start",
            ));
        }
    } else if plan.start.is_none() && Procfile::read(dir).web.is_none() {
        let build = script("build").unwrap_or_default();
        let site = if build.contains("vite build") {
            Some(("Vite", out_dir(build).unwrap_or("dist")))
        } else if build.contains("react-scripts build") {
            Some(("Create React App", "build"))
        } else {
            None
        };
        if let Some((framework, out)) = site {
            plan.kind = ServiceKind::Static;
            plan.static_dir = Some(out.trim_end_matches('/').to_owned());
            plan.notes.push(format!(
                "framework: {framework} (static site from {}/: no start script, main or server.js)",
                out.trim_end_matches('/')
            ));
        }
    }
    plan.package_manager = Some(describe(&pm, &cli, via_corepack));
    plan.bin_dirs.push("node_modules/.bin".into());
    plan
}

/// `vite build --outDir out` (or `--outDir=out`) → `out`.
fn out_dir(script: &str) -> Option<&str> {
    let mut words = script.split_whitespace();
    while let Some(word) = words.next() {
        if word == "--outDir" {
            return words.next();
        }
        if let Some(dir) = word.strip_prefix("--outDir=") {
            return Some(dir);
        }
    }
    None
}

/// Makes the package manager available: npm comes with Node.js and Bun is its own runtime;
/// Yarn and pnpm are the instance's own when installed, else corepack's. Corepack is used even
/// with an installed one when `packageManager` pins a version, since corepack runs exactly that
/// version and a global Yarn 1 refuses a Yarn 4 project. Returns the command that runs the
/// package manager (`pnpm`, or `corepack yarn@4` for a Yarn 2+ project that pins no version)
/// and whether corepack provides it.
fn provide(pm: &PackageManager, host: &Host, plan: &mut Plan) -> (String, bool) {
    let name = pm.tool.name();
    match pm.tool {
        Tool::Npm => {
            plan.toolchain = vec!["node".into(), "npm".into()];
            return ("npm".into(), false);
        }
        Tool::Bun => {
            plan.toolchain = vec!["bun".into()];
            return ("bun".into(), false);
        }
        Tool::Yarn | Tool::Pnpm => {}
    }
    // A Yarn 2+ project without a version or a committed release: corepack's default Yarn is
    // 1.x, so ask for the latest 4.x by name.
    let berry_unpinned = pm.berry && pm.version.is_none() && !pm.yarn_path;
    let wants_corepack = pm.version.is_some() || berry_unpinned;
    let installed = host.has(name) && !(wants_corepack && host.has("corepack"));
    if installed {
        plan.toolchain = vec!["node".into(), name.into()];
        return (name.into(), false);
    }
    let home = host.cache_dir.join("corepack");
    let env = [
        ("COREPACK_HOME", home.display().to_string()),
        ("COREPACK_ENABLE_DOWNLOAD_PROMPT", "0".into()),
        // Never write `packageManager` into the user's package.json.
        ("COREPACK_ENABLE_AUTO_PIN", "0".into()),
        // Without a pinned version: the version this corepack knows (with its hash), not a
        // look-up of the latest one on every build.
        ("COREPACK_DEFAULT_TO_LATEST", "0".into()),
        ("COREPACK_NPM_REGISTRY", NPM_REGISTRY.into()),
    ];
    for (k, v) in env {
        plan.env.insert(k.into(), v);
    }
    plan.toolchain = vec!["node".into(), "corepack".into()];
    if berry_unpinned {
        return ("corepack yarn@4".into(), true);
    }
    let bin = home.join("bin");
    let why = if host.has(name) {
        format!(
            "packageManager pins {name} {}; Node's corepack runs exactly that version",
            pm.version.as_deref().unwrap_or_default()
        )
    } else {
        format!("{name} is not installed on this instance; Node's corepack provides it")
    };
    // corepack wants the folder to exist.
    let shown = quote(&bin.display().to_string());
    plan.build.push(Step::new(
        format!("mkdir -p {shown} && corepack enable --install-directory {shown} {name}"),
        why,
    ));
    plan.bin_dirs.push(bin.display().to_string());
    (name.into(), true)
}

/// The install step, in the lockfile's folder. npm gets `npm ci` only when the lockfile
/// matches `package.json` (else `npm ci` fails): otherwise `npm install` and a warning.
fn install(pm: &PackageManager, cli: &str, notes: &mut Vec<String>) -> Step {
    let locked = pm.lockfile.is_some();
    let (command, why) = match pm.tool {
        Tool::Npm => match &pm.lockfile {
            None => ("npm install".to_owned(), pm.why.clone()),
            Some(lock) => {
                let manifest = read_json(&lock.dir.join("package.json"));
                let lock_json = read_json(&lock.dir.join(lock.name));
                match node_pm::npm_lock_drift(&manifest, &lock_json) {
                    None => ("npm ci".to_owned(), format!("{} (in sync)", lock.shown())),
                    Some(drift) => {
                        notes.push(format!(
                            "warning: {} is out of sync with package.json ({drift}); running \
                             npm install instead of npm ci",
                            lock.name
                        ));
                        (
                            "npm install".to_owned(),
                            format!("{} out of sync with package.json", lock.shown()),
                        )
                    }
                }
            }
        },
        Tool::Yarn if pm.berry && locked => (format!("{cli} install --immutable"), pm.why.clone()),
        Tool::Yarn | Tool::Pnpm | Tool::Bun if locked => {
            (format!("{cli} install --frozen-lockfile"), pm.why.clone())
        }
        _ => (
            format!("{cli} install"),
            format!("{} (no lockfile)", pm.why),
        ),
    };
    match pm.lockfile.as_ref().filter(|l| l.up > 0) {
        Some(lock) => Step::new(
            format!(
                "cd {} && {command}",
                "../".repeat(lock.up).trim_end_matches('/')
            ),
            format!("{why}; the install runs where the lockfile is"),
        ),
        None => Step::new(command, why),
    }
}

/// `pnpm 9.12.0 via corepack (packageManager in package.json)`.
fn describe(pm: &PackageManager, cli: &str, via_corepack: bool) -> String {
    let mut s = pm.tool.name().to_owned();
    if let Some(v) = &pm.version {
        s.push_str(&format!(" {v}"));
    } else if let Some(major) = cli.strip_prefix("corepack yarn@") {
        s.push_str(&format!(" {major}"));
    }
    if pm.tool == Tool::Yarn {
        s.push_str(if pm.berry { " (berry)" } else { " (classic)" });
    }
    if via_corepack {
        s.push_str(" via corepack");
    }
    s.push_str(&format!(" ({})", pm.why));
    s
}
