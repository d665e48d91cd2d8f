//! [`check`] against the tools really installed here (`node`, `python3`, `java`), and against
//! an empty `PATH` for the ones that are not (`go`, `ruby`, `dotnet`, `php`): each answer
//! within two seconds, and every failure naming both versions.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use super::*;
use crate::deploy::plan::tests::host;
use crate::deploy::test_files::{dir_with, script};

const LIMIT: Duration = Duration::from_secs(2);

/// [`check`] on instance `test-1` with `host`, and how long it took.
async fn timed(
    runtime: Runtime,
    dir: &Path,
    over: Option<&str>,
    host: &mut Host,
) -> (Result<Option<String>, String>, Duration) {
    let start = Instant::now();
    let out = check(runtime, dir, over, "test-1", host).await;
    let took = start.elapsed();
    assert!(took < LIMIT, "{runtime} took {took:?}: {out:?}");
    (out, took)
}

/// [`checked`]'s refusal, which the test expects.
async fn refused(runtime: Runtime, files: &[(&str, &str)], over: Option<&str>) -> String {
    checked(runtime, files, over).await.unwrap_err()
}

/// Fails the test unless the refusal `e` names both versions: the one wanted and the one there.
#[track_caller]
fn assert_names_both(e: &str, wanted: &str, there: &Version) {
    assert!(e.contains(wanted) && e.contains(&there.to_string()), "{e}");
}

/// Fails the test unless `text` (a check's line or refusal) starts with `head` and ends with
/// `tail`: what lies between names versions this machine decides.
#[track_caller]
fn assert_between(text: &str, head: &str, tail: &str) {
    assert!(text.starts_with(head) && text.ends_with(tail), "{text}");
}

async fn checked(
    runtime: Runtime,
    files: &[(&str, &str)],
    over: Option<&str>,
) -> Result<Option<String>, String> {
    let dir = dir_with(files);
    let mut h = host(dir.path());
    timed(runtime, dir.path(), over, &mut h).await.0
}

/// The version of a tool installed here, asked outside any app.
async fn real(tool: &str) -> Version {
    let path = std::env::var_os("PATH").unwrap_or_default();
    installed(tool, &path, Path::new("/"))
        .await
        .unwrap_or_else(|e| panic!("these tests need {tool} installed: {e}"))
}

#[tokio::test]
async fn node_passes_a_matching_engines_node_and_fails_a_newer_one_naming_both() {
    let node = real("node").await;
    let major = node.key()[0];
    let ok = format!(r#"{{"engines": {{"node": ">={major}"}}}}"#);
    let line = checked(Runtime::Node, &[("package.json", &ok)], None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        line,
        format!("version: node {node} matches >={major} (engines.node in package.json)")
    );

    let newer = format!(r#"{{"engines": {{"node": ">={}"}}}}"#, major + 2);
    let e = refused(Runtime::Node, &[("package.json", &newer)], None).await;
    assert_eq!(
        e,
        format!(
            "this app wants Node.js >={n} (engines.node in package.json) but instance test-1 has \
             {node}: install Node.js {n}+ on the instance, change engines.node in package.json, \
             or set the service's runtime version",
            n = major + 2
        )
    );

    let e = refused(Runtime::Node, &[(".nvmrc", "v16.20.2\n")], None).await;
    assert_names_both(&e, "Node.js 16.20.2 (.nvmrc)", &node);

    // The service's runtime version wins over the files, and the fix names it.
    let line = checked(Runtime::Node, &[(".nvmrc", "16")], Some(&major.to_string())).await;
    assert!(
        line.unwrap()
            .unwrap()
            .contains("(runtime_version in the service settings)")
    );
    let e = refused(Runtime::Node, &[], Some("16 || 18")).await;
    assert!(
        e.ends_with("or change the service's runtime version"),
        "{e}"
    );
    assert_names_both(&e, "16 || 18", &node);
}

#[tokio::test]
async fn python_passes_its_own_version_and_fails_a_newer_one_naming_both() {
    let python = real("python3").await;
    let [_, minor, _] = python.key();
    let ok = format!("3.{minor}\n");
    let line = checked(Runtime::Python, &[(".python-version", &ok)], None)
        .await
        .unwrap()
        .unwrap();
    assert_between(
        &line,
        &format!("version: python3 3.{minor}."),
        &format!("matches 3.{minor} (.python-version)"),
    );

    let newer = format!("3.{}", minor + 3);
    let dir = dir_with(&[(".python-version", &newer)]);
    // What `python3` says in the app's folder, as the build would run it: a version manager's
    // shim may answer there for another version than elsewhere (pyenv falls back to the
    // system's python3 for a version it lacks).
    let path = std::env::var_os("PATH").unwrap_or_default();
    let there = installed("python3", &path, dir.path()).await.unwrap();
    let (e, _) = timed(Runtime::Python, dir.path(), None, &mut host(dir.path())).await;
    let e = e.unwrap_err();
    assert_between(
        &e,
        &format!(
            "this app wants Python {newer} (.python-version) but instance test-1 has {there}: \
             install Python {newer} on the instance"
        ),
        "change .python-version, or set the service's runtime version",
    );

    let e = refused(Runtime::Python, &[("runtime.txt", "python-3.5.10")], None).await;
    assert_names_both(&e, "Python 3.5.10 (runtime.txt)", &python);
}

#[tokio::test]
async fn python_builds_with_a_matching_python3_x_when_python3_is_another_version() {
    let python = real("python3").await;
    let minor = python.key()[1];
    let name = format!("python3.{minor}");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let exe = which(&name, &path).unwrap_or_else(|| panic!("{name} is on PATH here"));
    // `python3` here is an old one (not installed on this machine, so a script stands in for
    // it); `python3.X` runs the real interpreter.
    let bin = tempfile::tempdir().unwrap();
    let script = |file: &str, body: String| script(bin.path(), file, &body);
    script("python3", "echo Python 3.0.1".into());
    script(
        &name,
        format!(
            "PATH='{}' exec '{}' \"$@\"",
            path.to_string_lossy(),
            exe.display()
        ),
    );
    let dir = dir_with(&[(".python-version", &format!("3.{minor}"))]);
    let mut h = host(dir.path());
    h.path = OsString::from(bin.path());
    let (line, _) = timed(Runtime::Python, dir.path(), None, &mut h).await;
    let line = line.unwrap().unwrap();
    assert_eq!(h.python, name);
    assert_between(
        &line,
        &format!("version: {name} 3.{minor}."),
        &format!("building with {name} (python3 is 3.0.1)"),
    );
}

#[tokio::test]
async fn java_passes_its_own_release_and_fails_a_newer_one_naming_both() {
    let java = real("java").await;
    let major = java.key()[0];
    let pom = |n: u64| {
        format!("<project><properties><java.version>{n}</java.version></properties></project>")
    };
    let line = checked(Runtime::Java, &[("pom.xml", &pom(major))], None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        line,
        format!("version: java {java} matches >={major} (<java.version> in pom.xml)")
    );
    let e = refused(Runtime::Java, &[("pom.xml", &pom(major + 4))], None).await;
    assert_eq!(
        e,
        format!(
            "this app wants Java >={n} (<java.version> in pom.xml) but instance test-1 has \
             {java}: install Java {n}+ on the instance, change <java.version> in pom.xml, or set \
             the service's runtime version",
            n = major + 4
        )
    );
    let gradle = format!(
        "java {{ toolchain {{ languageVersion = JavaLanguageVersion.of({}) }} }}",
        major + 4
    );
    let e = refused(Runtime::Java, &[("build.gradle.kts", &gradle)], None).await;
    assert_names_both(&e, &format!(">={}", major + 4), &java);
}

#[tokio::test]
async fn absent_toolchains_fail_naming_the_wanted_version_and_the_instance() {
    let cases = [
        (
            Runtime::Go,
            ("go.mod", "module x\n\ngo 1.22\n"),
            "Go >=1.22 (the go line of go.mod) but go",
            "install Go 1.22+",
        ),
        (
            Runtime::Ruby,
            (".ruby-version", "3.3.0\n"),
            "Ruby 3.3.0 (.ruby-version) but ruby",
            "install Ruby 3.3.0",
        ),
        (
            Runtime::Dotnet,
            ("global.json", r#"{"sdk": {"version": "8.0.100"}}"#),
            "the .NET SDK >=8.0.100 <9 (sdk.version in global.json) but dotnet",
            "install the .NET SDK >=8.0.100 <9",
        ),
        (
            Runtime::Php,
            ("composer.json", r#"{"require": {"php": "^8.2"}}"#),
            "PHP ^8.2 (require.php in composer.json) but php",
            "install PHP 8.2",
        ),
    ];
    let empty = tempfile::tempdir().unwrap();
    for (runtime, file, wants, install) in cases {
        let dir = dir_with(&[file]);
        let mut h = host(dir.path());
        h.path = OsString::from(empty.path());
        let (e, _) = timed(runtime, dir.path(), None, &mut h).await;
        let e = e.unwrap_err();
        assert_eq!(
            e,
            format!(
                "this app wants {wants} is not installed on instance test-1: {install} or choose \
                 the docker runtime"
            )
        );
    }
}

#[tokio::test]
async fn nothing_asked_is_nothing_checked() {
    for runtime in Runtime::ALL {
        let dir = dir_with(&[("package.json", "{}"), ("requirements.txt", "")]);
        let mut h = host(dir.path());
        h.path = OsString::new();
        assert_eq!(
            timed(runtime, dir.path(), None, &mut h).await.0,
            Ok(None),
            "{runtime}"
        );
    }
    let e = refused(Runtime::Node, &[], Some("lts")).await;
    assert!(
        e.starts_with("runtime_version in the service settings is \"lts\""),
        "{e}"
    );
}
