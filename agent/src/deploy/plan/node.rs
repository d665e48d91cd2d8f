//! Node.js: the package manager the lockfile names, its install, the `build` script if there is
//! one, and `start` (or `main`, or `server.js`, as `npm start` itself falls back).

use std::path::Path;

use proto::service::ServiceKind;

use super::{Host, Plan, Step, read_json};
use crate::deploy::process::quote;

pub(super) fn plan(dir: &Path, _host: &Host) -> Plan {
    let (install, tool, run, why) = if dir.join("pnpm-lock.yaml").is_file() {
        (
            "pnpm install --frozen-lockfile",
            "pnpm",
            "pnpm run",
            "pnpm-lock.yaml",
        )
    } else if dir.join("yarn.lock").is_file() {
        (
            "yarn install --frozen-lockfile",
            "yarn",
            "yarn run",
            "yarn.lock",
        )
    } else if dir.join("package-lock.json").is_file() {
        ("npm ci", "npm", "npm run", "package-lock.json")
    } else {
        ("npm install", "npm", "npm run", "no lockfile")
    };
    let manifest = read_json(&dir.join("package.json"));
    let has_script = |name: &str| manifest["scripts"][name].is_string();
    let mut build = vec![Step::new(install, why)];
    if has_script("build") {
        build.push(Step::new(
            format!("{run} build"),
            "scripts.build in package.json",
        ));
    }
    let start = if has_script("start") {
        Some(Step::new(
            format!("{tool} start"),
            "scripts.start in package.json",
        ))
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
    Plan {
        package_manager: Some(format!("{tool} ({why})")),
        build,
        start,
        toolchain: vec!["node".into(), tool.into()],
        bin_dirs: vec!["node_modules/.bin".into()],
        ..Plan::empty(ServiceKind::Web)
    }
}
