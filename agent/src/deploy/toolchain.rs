//! Checks that the executables a [`Plan`](super::Plan) needs are on the instance before a build
//! starts, so a missing toolchain is one clear sentence naming it instead of `sh: 1: npm: not
//! found` deep in a build log.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// An executable the plan needs that is not on `PATH`. Its `Display` is the whole message for
/// the user, e.g. `node not found on instance web-1: install Node.js 18+ or choose the docker
/// runtime`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{tool} not found on instance {instance}: {hint} or choose the docker runtime")]
pub struct MissingTool {
    pub tool: String,
    pub instance: String,
    pub hint: &'static str,
}

/// Looks for each of `tools` (a plan's toolchain) on this process's `PATH`; the first one
/// missing is the error.
pub fn check_toolchain(tools: &[String], instance: &str) -> Result<(), MissingTool> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    check_toolchain_in(tools, instance, &path)
}

/// [`check_toolchain`] against an explicit `PATH` value (the service's own, or a test's).
pub fn check_toolchain_in(
    tools: &[String],
    instance: &str,
    path: &OsStr,
) -> Result<(), MissingTool> {
    match tools.iter().find(|tool| !on_path(tool, path)) {
        None => Ok(()),
        Some(tool) => Err(MissingTool {
            tool: tool.clone(),
            instance: instance.to_owned(),
            hint: install_hint(tool),
        }),
    }
}

/// Whether `tool` is an executable file in one of `path`'s directories. Empty entries (which a
/// shell reads as the working directory) are skipped: the release directory is not a toolchain.
pub(crate) fn on_path(tool: &str, path: &OsStr) -> bool {
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .any(|dir| is_executable(&dir.join(tool)))
}

fn is_executable(file: &Path) -> bool {
    std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What to install, in words a server admin can act on. Versions are the oldest ones the
/// default commands work with.
fn install_hint(tool: &str) -> &'static str {
    match tool {
        "node" => "install Node.js 18+",
        "npm" => "install npm (it comes with Node.js 18+)",
        "yarn" => "install Yarn (`corepack enable` with Node.js 18+)",
        "pnpm" => "install pnpm (`corepack enable` with Node.js 18+)",
        "corepack" => {
            "install Node.js 18+ with corepack (bundled up to Node.js 24; later: `npm install -g corepack`)"
        }
        "bun" => "install Bun (https://bun.sh; corepack does not provide it)",
        "python3" => "install Python 3.8+ with venv (Debian: python3-venv)",
        "go" => "install Go 1.21+",
        "php" => "install PHP 8.1+ (Debian: php-cli)",
        "composer" => "install Composer",
        "ruby" => "install Ruby 3.0+",
        "bundle" => "install Bundler (`gem install bundler`)",
        "dotnet" => "install the .NET SDK 8+",
        "java" => "install a JDK 17+",
        "mvn" => "install Maven 3.8+ or commit the Maven wrapper (mvnw)",
        "gradle" => "install Gradle 8+ or commit the Gradle wrapper (gradlew)",
        _ => "install it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::plan::Plan;
    use crate::deploy::plan::tests::host;
    use crate::deploy::{Runtime, plan};

    fn node_plan() -> Plan {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), "{}").unwrap();
        plan(Runtime::Node, dir.path(), &host(dir.path()))
    }

    #[test]
    fn an_empty_path_names_the_first_missing_tool_and_how_to_install_it() {
        let err = check_toolchain_in(&node_plan().toolchain, "web-1", OsStr::new("")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "node not found on instance web-1: install Node.js 18+ or choose the docker runtime"
        );
    }

    #[test]
    fn executables_on_path_pass_and_non_executable_files_do_not() {
        let bin = tempfile::tempdir().unwrap();
        for (tool, mode) in [("node", 0o755), ("npm", 0o644)] {
            let file = bin.path().join(tool);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let path = std::env::join_paths(["/nonexistent", bin.path().to_str().unwrap()]).unwrap();
        let err = check_toolchain_in(&node_plan().toolchain, "web-1", &path).unwrap_err();
        assert_eq!(err.tool, "npm", "npm is there but not executable");

        let npm = bin.path().join("npm");
        std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            check_toolchain_in(&node_plan().toolchain, "web-1", &path),
            Ok(())
        );
    }

    #[test]
    fn every_default_tool_has_a_specific_hint() {
        let dir = tempfile::tempdir().unwrap();
        for runtime in Runtime::ALL {
            for tool in plan(runtime, dir.path(), &host(dir.path())).toolchain {
                assert_ne!(install_hint(&tool), "install it", "{tool}");
            }
        }
    }

    #[test]
    fn every_runtimes_marker_leads_to_a_clear_error_when_its_toolchain_is_absent() {
        let cases = [
            ("package.json", "node", "Node.js 18+"),
            ("requirements.txt", "python3", "Python 3.8+"),
            ("pyproject.toml", "python3", "Python 3.8+"),
            ("go.mod", "go", "Go 1.21+"),
            ("composer.json", "php", "PHP 8.1+"),
            ("Gemfile", "ruby", "Ruby 3.0+"),
            ("web.csproj", "dotnet", ".NET SDK 8+"),
            ("pom.xml", "java", "JDK 17+"),
            ("build.gradle", "java", "JDK 17+"),
        ];
        for (marker, tool, names) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(marker), "").unwrap();
            let runtime = crate::deploy::detect(dir.path()).expect(marker);
            let err = check_toolchain_in(
                &plan(runtime, dir.path(), &host(dir.path())).toolchain,
                "web-1",
                OsStr::new(""),
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.starts_with(&format!("{tool} not found on instance web-1: install")),
                "{marker}: {err}"
            );
            assert!(err.contains(names), "{marker}: {err}");
            assert!(
                err.ends_with("or choose the docker runtime"),
                "{marker}: {err}"
            );
        }
    }

    #[test]
    fn static_needs_nothing_even_with_an_empty_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(Runtime::Static, dir.path(), &host(dir.path()));
        assert_eq!(
            check_toolchain_in(&p.toolchain, "web-1", OsStr::new("")),
            Ok(())
        );
    }
}
