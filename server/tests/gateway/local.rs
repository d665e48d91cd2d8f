//! `--local-agent`: after the first sign-up, Base enrolls and runs a dployrd beside itself, so
//! the newcomer's first cluster already has one online instance. That dployrd must not reach
//! Base's secrets (audit H2): its own data dir beside Base's, an environment without Base's
//! configuration, and no console unless the operator allows it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::eventually;
use crate::support::{Fetch, Options, TestApp};

/// A Base with `--local-agent` whose local instance is online; its instance as listed.
async fn with_online_local_agent() -> (TestApp, Value) {
    let app = TestApp::with(Options {
        local_agent: true,
        ..Options::default()
    })
    .await;
    let cluster = app.ana_cluster().await;
    let list = || async {
        let v: Value = app
            .get(&format!("/api/v1/clusters/{cluster}/instances"))
            .fetch()
            .await;
        v["instances"].as_array().cloned().unwrap_or_default()
    };
    eventually(Duration::from_secs(20), "local instance online", || async {
        list()
            .await
            .iter()
            .any(|i| i["name"] == "local" && i["status"] == "online")
    })
    .await;
    let instances = list().await;
    assert_eq!(instances.len(), 1, "exactly one local instance");
    (app, instances[0].clone())
}

/// The local agent's data dir as the tests expect it: `<Base's data dir>-agent`.
fn agent_dir(app: &TestApp) -> PathBuf {
    let name = app.data_dir.file_name().unwrap().to_str().unwrap();
    app.data_dir.with_file_name(format!("{name}-agent"))
}

/// The pid of the `dployrd … run` whose data dir is `dir`, and its arguments.
fn running_agent(dir: &Path) -> (u32, Vec<String>) {
    let dir = dir.to_str().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == dir) && args.iter().any(|a| a == "run") {
            return (pid, args);
        }
    }
    panic!("no dployrd running with --data-dir {dir}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_cluster_gets_an_online_local_instance() {
    let (app, _) = with_online_local_agent().await;
    assert!(agent_dir(&app).join("enrollment.json").exists());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_local_agent_data_dir_is_outside_bases() {
    let (app, _) = with_online_local_agent().await;
    let dir = agent_dir(&app);
    assert!(dir.join("enrollment.json").exists(), "enrolled in {dir:?}");
    assert!(!dir.starts_with(&app.data_dir));
    assert!(
        !app.data_dir.join("local-agent").exists(),
        "nothing of the agent inside Base's data dir"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&app.data_dir), 0o700, "Base's data dir is its own");
    // dployrd (as root) opens it to traversal only (0711), so each service's own user reaches
    // its own folder in it: nobody else may list or change it.
    assert_eq!(
        mode(&dir) & 0o066,
        0,
        "the agent's data dir is its own: {:o}",
        mode(&dir)
    );
    // The agent (and its instance console) starts in its own dir, not next to master.key.
    let (pid, _) = running_agent(&dir);
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, dir.canonicalize().unwrap());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_local_agent_gets_no_base_secrets_in_its_env() {
    let (app, _) = with_online_local_agent().await;
    let (pid, _) = running_agent(&agent_dir(&app));
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let names: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| {
            let v = String::from_utf8_lossy(v);
            v.split('=').next().unwrap_or_default().to_string()
        })
        .collect();
    // This test process has CARGO_* and whatever the shell exported; the agent gets none of it,
    // so neither DPLOYR_MASTER_KEY, DATABASE_URL nor DPLOYR_SMTP_URL when Base has them.
    let foreign: Vec<&String> = names
        .iter()
        .filter(|n| !server::local_agent::PASSED_ENV.contains(&n.as_str()))
        .collect();
    assert!(
        foreign.is_empty(),
        "the local dployrd inherited {foreign:?}"
    );
    assert!(
        names.iter().any(|n| n == "PATH"),
        "PATH is passed: {names:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_local_instance_console_is_off_by_default() {
    let (app, instance) = with_online_local_agent().await;
    assert_eq!(instance["console_enabled"], false, "{instance}");
    // An Admin switching it on in Base does not open it: the agent itself refuses consoles.
    let (_, args) = running_agent(&agent_dir(&app));
    assert!(args.iter().any(|a| a == "--no-console"), "{args:?}");
    app.stop().await;
}
