//! Which version of a toolchain the instance has, asked from the tool itself (`node --version`,
//! `java -version`, …) under a short timeout, so a missing or hung tool costs a deploy at most
//! two seconds before the build instead of a confusing failure in it.
//!
//! A tool is asked in the app's folder because version managers' shims (mise, asdf, pyenv) pick
//! the version from the app's files there, as they will for the build.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::range::Version;

/// How long a version command may take.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The first executable named `tool` on `path`, as a shell would find it.
pub fn which(tool: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(tool))
        .find(|file| {
            std::fs::metadata(file)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The arguments that make `tool` print its version.
fn version_args(tool: &str) -> &'static [&'static str] {
    match tool {
        "go" => &["version"],
        "java" => &["-version"],
        "php" => &["-r", "echo PHP_VERSION;"],
        _ => &["--version"],
    }
}

/// The version `tool` (found on `path`) reports when run in `dir`, or why there is none: not
/// on `path`, no answer within [`TIMEOUT`], a failure (with the first line it printed), or no
/// version in what it printed.
pub async fn installed(tool: &str, path: &OsStr, dir: &Path) -> Result<Version, String> {
    let exe = which(tool, path).ok_or_else(|| format!("{tool} is not installed"))?;
    let args = version_args(tool);
    let shown = format!("`{tool} {}`", args.join(" "));
    let run = tokio::process::Command::new(&exe)
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("DOTNET_NOLOGO", "1")
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(TIMEOUT, run)
        .await
        .map_err(|_| format!("{shown} did not answer within {TIMEOUT:?}"))?
        .map_err(|e| format!("{shown} could not run: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let said = stderr
            .lines()
            .chain(stdout.lines())
            .find(|l| !l.trim().is_empty());
        return Err(format!(
            "{shown} failed ({}){}",
            out.status,
            said.map(|l| format!(": {}", l.trim())).unwrap_or_default()
        ));
    }
    parse(tool, &stdout, &stderr).ok_or_else(|| format!("{shown} printed no version"))
}

/// The version in a tool's output. Java prints `openjdk version "17.0.15" …` on stderr (maybe
/// after a `Picked up JAVA_TOOL_OPTIONS` line), and `1.8.0_292` for Java 8; the .NET SDK may
/// print a banner before its version on the last line; Python 2 printed to stderr.
fn parse(tool: &str, stdout: &str, stderr: &str) -> Option<Version> {
    match tool {
        "java" => {
            let line = stderr
                .lines()
                .chain(stdout.lines())
                .find(|l| l.contains(" version \""))?;
            let quoted = line.split('"').nth(1)?;
            let quoted = quoted.strip_prefix("1.").unwrap_or(quoted);
            Version::find(quoted)
        }
        "dotnet" => Version::find(stdout.lines().rev().find(|l| !l.trim().is_empty())?),
        _ => Version::find(stdout).or_else(|| Version::find(stderr)),
    }
}

/// The `python3.X` interpreters on `path`, newest first, by name: `(name, X)`.
pub fn python_candidates(path: &OsStr) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let minor = name.strip_prefix("python3.")?.parse().ok()?;
            Some((name, minor))
        })
        .collect();
    found.sort_by_key(|(_, minor)| std::cmp::Reverse(*minor));
    found.dedup();
    found.retain(|(name, _)| which(name, path).is_some());
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tools_output_has_its_version_found() {
        let java = "Picked up JAVA_TOOL_OPTIONS: -Xmx1g\n\
                    openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment";
        assert_eq!(parse("java", "", java).unwrap().to_string(), "17.0.15");
        let java8 = "java version \"1.8.0_292\"\n";
        assert_eq!(parse("java", "", java8).unwrap().key(), [8, 0, 0]);
        let dotnet = "Welcome to .NET 8.0!\n---\n8.0.100\n";
        assert_eq!(parse("dotnet", dotnet, "").unwrap().to_string(), "8.0.100");
        let go = "go version go1.22.3 linux/amd64\n";
        assert_eq!(parse("go", go, "").unwrap().to_string(), "1.22.3");
        assert_eq!(
            parse("python3", "", "Python 2.7.18\n").unwrap().key(),
            [2, 7, 18]
        );
        assert_eq!(parse("node", "nothing here", ""), None);
    }

    #[tokio::test]
    async fn a_tool_that_is_not_on_path_or_hangs_or_fails_says_so() {
        let bin = tempfile::tempdir().unwrap();
        let path = bin.path().as_os_str();
        let here = bin.path();
        let e = installed("node", path, here).await.unwrap_err();
        assert_eq!(e, "node is not installed");

        let script =
            |name: &str, body: &str| crate::deploy::test_files::script(bin.path(), name, body);
        let real_path = std::env::var_os("PATH").unwrap_or_default();
        let sleep = which("sleep", &real_path).unwrap();
        script("ruby", &format!("exec {} 30", sleep.display()));
        let start = std::time::Instant::now();
        let e = installed("ruby", path, here).await.unwrap_err();
        assert!(e.contains("did not answer within 2s"), "{e}");
        assert!(start.elapsed() < TIMEOUT + Duration::from_millis(1500));

        script("php", "echo 'version 8.4 is not installed' >&2; exit 3");
        let e = installed("php", path, here).await.unwrap_err();
        assert!(
            e.contains("failed") && e.contains("version 8.4 is not installed"),
            "{e}"
        );
    }
}
