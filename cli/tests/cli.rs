//! The `dployr` binary against a real Base (`dployr-server` with its local dployrd, SQLite in a
//! temp dir) deploying real Node apps from git repositories made here: what a CI job sees —
//! output, exit codes and JSON; and changing a service's settings with `services update`.
//!
//! Needs `dployr-server` and `dployrd` built beside `dployr` (`cargo test --workspace` and
//! `.ci/test` build them).

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Base, Repo, dployr};

const APP: &str = r#"require('http').createServer((q, s) => s.end('hello'))
  .listen(process.env.PORT, '127.0.0.1', () => console.log('listening'));
"#;

const REPO_CONFIG: &str = r#"service = "web"
start = "node server.js"
[health_check]
path = "/"
"#;

#[test]
fn ci_logs_in_deploys_waits_and_gets_exit_codes() {
    let base = Base::start();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("dployr").join("config.toml");
    let cli = |args: &[&str]| dployr(&config, &[], args, None);

    // Not signed in yet: an auth error that says what to do.
    let r = cli(&["services"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("dployr login"), "{r:?}");

    // Browser-free login with a password from stdin: a token is made and saved, 0600.
    let r = dployr(
        &config,
        &[],
        &[
            "--url",
            &base.url,
            "login",
            "--email",
            support::EMAIL,
            "--password-stdin",
        ],
        Some(support::PASSWORD),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(saved.contains("token = \"dp_"), "{saved}");
    assert!(
        !saved.contains(support::PASSWORD),
        "the password is never kept"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // The local dployrd comes online; `--json` output parses.
    let instance = support::eventually(Duration::from_secs(60), "the local dployrd online", || {
        let r = cli(&["instances", "--json"]);
        let list: Value = serde_json::from_str(&r.stdout).ok()?;
        list.as_array()?
            .iter()
            .find(|i| i["status"] == "online")
            .map(|i| i["name"].as_str().unwrap().to_string())
    });

    let repo = Repo::new();
    // The start command and health check come from the repository's dployr.toml (without
    // it, node's default `npm start` fails: package.json has no start script).
    repo.commit(
        &[
            ("package.json", r#"{"name":"web","version":"1.0.0"}"#),
            ("server.js", APP),
            ("dployr.toml", REPO_CONFIG),
        ],
        "app",
    );
    // A node service from the repository, built by `build`.
    let create = |name: &str, build: &str| {
        let url = repo.url();
        let args = [
            "services",
            "create",
            name,
            "--instance",
            &instance,
            "--git",
            &url,
        ];
        cli(&[&args[..], &["--runtime", "node", "--build-command", build]].concat())
    };
    let r = create("web", "echo building the app");
    assert_eq!(r.code, 0, "{r:?}");

    // deploy --wait in the repository (the service named by its dployr.toml) streams the
    // build log and exits 0 once live.
    let args = ["deploy", "--wait", "--timeout", "3m"];
    let r = support::dployr_in(repo.path(), &config, &[], &args, None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("building the app"),
        "the build log streams: {r:?}"
    );
    assert!(
        r.stdout.contains("dployr.toml sets: start, health_check"),
        "{r:?}"
    );
    assert!(r.stdout.contains("web is live"), "{r:?}");

    let r = cli(&["services", "--json"]);
    let services: Value = serde_json::from_str(&r.stdout).expect("services --json parses");
    assert_eq!(services[0]["name"], "web");
    assert_eq!(services[0]["status"], "running");
    let r = cli(&["deployments", "web", "--json"]);
    let deps: Value = serde_json::from_str(&r.stdout).expect("deployments --json parses");
    assert_eq!(deps[0]["state"], "live");

    // A failing build exits 1 and shows the lines that say why.
    let r = create(
        "broken",
        "echo compiling; echo 'error: missing semicolon' >&2; exit 3",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli(&["deploy", "broken", "--wait", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let failed: Value =
        serde_json::from_str(&r.stdout).expect("deploy --json prints the deployment");
    assert_eq!(failed["state"], "failed");
    assert!(r.stderr.contains("error: missing semicolon"), "{r:?}");

    // A bad token is an auth error (3), whatever the saved login says.
    let r = dployr(
        &config,
        &[("DPLOYR_TOKEN", "dp_not_a_real_token")],
        &["services"],
        None,
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.contains("DPLOYR_TOKEN"),
        "the hint names the fix: {r:?}"
    );

    // A usage error (2): an unknown service, with the ones that exist named.
    let r = cli(&["deploy", "nosuch"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("web"), "{r:?}");

    // --timeout passing exits 4; the deploy can then be cancelled.
    let r = cli(&[
        "services",
        "create",
        "slow",
        "--instance",
        &instance,
        "--git",
        &repo.url(),
        "--runtime",
        "node",
        "--build-command",
        "sleep 60",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli(&["deploy", "slow", "--wait", "--timeout", "2s", "--json"]);
    assert_eq!(r.code, 4, "{r:?}");
    let slow: Value = serde_json::from_str(&r.stdout).unwrap();
    let r = cli(&["cancel", slow["id"].as_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");

    // Secrets go in from stdin and never come out.
    let r = dployr(
        &config,
        &[],
        &["env", "set", "web", "API_KEY", "-", "--secret"],
        Some("s3cr3t-v4lue\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli(&["env", "list", "web"]);
    assert!(
        r.stdout.contains("API_KEY") && r.stdout.contains("(secret)"),
        "{r:?}"
    );
    let r = cli(&["env", "list", "web", "--json"]);
    assert!(!r.stdout.contains("s3cr3t"), "{r:?}");

    // A CI token made by the CLI works through DPLOYR_URL/DPLOYR_TOKEN alone, no config file.
    let r = cli(&["tokens", "create", "github-actions", "--role", "member"]);
    assert_eq!(r.code, 0, "{r:?}");
    let ci_token = r.stdout.trim().to_string();
    assert!(ci_token.starts_with("dp_"), "{r:?}");
    let elsewhere = home.path().join("none.toml");
    let r = dployr(
        &elsewhere,
        &[("DPLOYR_URL", &base.url), ("DPLOYR_TOKEN", &ci_token)],
        &["deploy", "web", "--wait", "--timeout", "3m"],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli(&["events", "--json", "--action", "deployment.create"]);
    let page: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor_token"] == "github-actions"),
        "the audit log names the CI token: {r:?}"
    );
    // `dployr logs` prints the service's output.
    let r = cli(&["logs", "web", "-n", "500"]);
    assert!(r.stdout.contains("listening"), "{r:?}");

    // `logs -f --json` keeps printing: a restart's new output arrives on the open stream.
    let (mut follow, lines) =
        support::dployr_spawn(&config, &["logs", "web", "-f", "-n", "1", "--json"]);
    let next = || lines.recv_timeout(Duration::from_secs(60)).ok();
    let first: Value = serde_json::from_str(&next().expect("the newest line first")).unwrap();
    let r = cli(&["restart", "web"]);
    assert_eq!(r.code, 0, "{r:?}");
    let after_restart = std::iter::from_fn(next).find(|l| {
        let v: Value = serde_json::from_str(l).unwrap();
        v["seq"].as_i64() > first["seq"].as_i64() && v["line"] == "listening"
    });
    let _ = follow.kill();
    let _ = follow.wait();
    assert!(
        after_restart.is_some(),
        "the restarted release's output came live"
    );
}

#[test]
fn services_create_and_update_set_and_clear_settings() {
    let base = Base::start();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("dployr").join("config.toml");
    let cli = |args: &[&str]| dployr(&config, &[], args, None);
    let instance = support::login_with_local_instance(&base, &config);
    let show = || -> Value {
        let r = cli(&["services", "show", "jobs", "--json"]);
        assert_eq!(r.code, 0, "{r:?}");
        serde_json::from_str(&r.stdout).unwrap()
    };

    let r = cli(&[
        "services",
        "create",
        "jobs",
        "--instance",
        &instance,
        "--git",
        "https://example.com/jobs.git",
        "--kind",
        "worker",
        "--runtime-version",
        "20",
        "--root-dir",
        "apps/jobs",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let svc = show();
    assert_eq!(
        (&svc["kind"], &svc["runtime_version"], &svc["root_dir"]),
        (&json!("worker"), &json!("20"), &json!("apps/jobs"))
    );

    // update changes what it is given and clears what is given empty.
    let r = cli(&[
        "services",
        "update",
        "jobs",
        "--kind",
        "web",
        "--runtime-version",
        "",
        "--branch",
        "release",
        "--start-command",
        "node jobs.js",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Updated source, kind, runtime version, start command of jobs"),
        "{r:?}"
    );
    let svc = show();
    assert_eq!(svc["kind"], "web");
    assert_eq!(svc["runtime_version"], Value::Null);
    assert_eq!(svc["start_command"], "node jobs.js");
    assert_eq!(
        svc["source"]["git"],
        json!({"url": "https://example.com/jobs.git", "branch": "release"})
    );
    assert_eq!(svc["root_dir"], "apps/jobs", "not given, kept");

    // Base's refusal names the setting; an update of nothing is a usage error.
    let r = cli(&["services", "update", "jobs", "--runtime-version", "latest"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("not a version") && r.stderr.contains("runtime_version"),
        "{r:?}"
    );
    let r = cli(&["services", "update", "jobs"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("nothing to change"), "{r:?}");
    let r = cli(&["services", "update", "jobs", "--kind", "daemon"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(show()["kind"], "web", "unchanged by refused updates");
}

#[test]
fn completions_and_help_need_no_base() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    let r = dployr(&config, &[], &["completions", "bash"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("_dployr"), "a bash completion function");
    let r = dployr(&config, &[], &["deploy", "--timeout", "soon"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a duration"), "{r:?}");
}
