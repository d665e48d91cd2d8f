//! Runtime versions end to end: a Node app whose `engines.node` the instance's real `node`
//! cannot meet fails before any build with a reason naming both versions; one it can meet goes
//! live with the check's line in the build plan.

use std::time::{Duration, Instant};

use proto::deploy::DeployState;

use crate::deploy::{Deployer, Repo, git_source, steps};

/// The `node` installed here, as `node --version` says it (without the `v`).
fn node_version() -> String {
    let out = std::process::Command::new("node")
        .arg("--version")
        .output()
        .expect("these tests need node");
    let v = String::from_utf8(out.stdout).unwrap();
    v.trim().trim_start_matches('v').to_owned()
}

fn app(engines: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "package.json",
            format!(
                r#"{{"name":"app","version":"1.0.0","engines":{{"node":"{engines}"}},"scripts":{{"start":"node server.js"}}}}"#
            ),
        ),
        (
            "package-lock.json",
            r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0"}}}"#.into(),
        ),
        (
            "server.js",
            "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');\n".into(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_version_the_instance_lacks_fails_before_the_build_naming_both() {
    let node = node_version();
    let d = Deployer::start().await;
    let repo = Repo::new();
    let files = app(">=99");
    let files: Vec<(&str, &str)> = files.iter().map(|(n, b)| (*n, b.as_str())).collect();
    repo.commit(&files, "wants node 99");
    let svc = d
        .service("web", git_source(&repo), serde_json::json!({}))
        .await;

    let start = Instant::now();
    let failed = d.settled(&d.deploy(&svc).await).await;
    let took = start.elapsed();
    assert_eq!(failed.state, DeployState::Failed, "{:?}", failed.reason);
    let reason = failed.reason.clone().unwrap_or_default();
    assert_eq!(
        reason,
        format!(
            "this app wants Node.js >=99 (engines.node in package.json) but instance web-1 has \
             {node}: install Node.js 99+ on the instance, change engines.node in package.json, \
             or set the service's runtime version"
        )
    );
    assert!(
        !steps(&failed).contains(&DeployState::Building),
        "{:?}",
        steps(&failed)
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let lines = d.log_lines(&svc).await;
    assert!(
        !lines.iter().any(|l| l.contains("npm")),
        "no build ran: {lines:#?}"
    );

    // A version the instance has: the check's line heads the build plan and the app goes live.
    let files = app(">=1");
    let files: Vec<(&str, &str)> = files.iter().map(|(n, b)| (*n, b.as_str())).collect();
    repo.commit(&files, "any node");
    d.live(&d.deploy(&svc).await).await;
    let want = format!("  version: node {node} matches >=1 (engines.node in package.json)");
    crate::eventually(
        Duration::from_secs(10),
        "the version line in the log",
        || {
            let want = want.clone();
            let d = &d;
            let svc = &svc;
            async move { d.log_lines(svc).await.contains(&want) }
        },
    )
    .await;
}
