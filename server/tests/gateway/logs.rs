//! Service output end to end: a real dployrd runs a Node app whose build and runtime output
//! travel the log stream to Base, are stored, and come out of the REST API, both as stored
//! lines and live (server-sent events) as the app prints them.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::Fetch;
use crate::{base_with_agent, deploy_live, eventually, node_service};
use testkit::Repo;

const APP: &str = r#"
for (let i = 0; i < 200; i++) console.log(`boot ${i}`);
console.error('warming up');
require('http').createServer((q, s) => { console.log(`hit ${q.url}`); s.end('ok'); })
  .listen(process.env.PORT, '127.0.0.1');
"#;

fn lines(ndjson: &str) -> Vec<Value> {
    ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_and_runtime_output_are_stored_and_followed_live_over_rest() {
    let (app, cluster, invite, agent) = base_with_agent("web-1").await;
    let extra = json!({"build_command": "echo building the app"});
    let (id, _repo) = node_service(&app, &cluster, &invite.instance_id, "web", APP, extra).await;
    let dep = deploy_live(&app, &id).await;

    // Stored: the build's output and the app's, in order, with their streams.
    let start = std::time::Instant::now();
    let stored = loop {
        let body = app
            .get(&format!("/api/v1/deployments/{dep}/logs"))
            .fetch_text()
            .await;
        let stored = lines(&body);
        if stored.iter().any(|l| l["line"] == "boot 199") {
            break stored;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "boot lines not stored: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // stdout and stderr are separate pipes, so only lines of one stream keep their order.
    let text: Vec<&str> = stored
        .iter()
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["line"].as_str().unwrap())
        .collect();
    let build = text
        .iter()
        .position(|l| *l == "building the app")
        .expect("build output");
    let boot = text
        .iter()
        .position(|l| *l == "boot 0")
        .expect("runtime output");
    assert!(build < boot, "build output comes first");
    assert!(
        text[boot..boot + 200]
            .iter()
            .enumerate()
            .all(|(i, l)| *l == format!("boot {i}")),
        "runtime lines in order: {:?}",
        &text[boot..(boot + 210).min(text.len())]
    );
    let warm = stored.iter().find(|l| l["line"] == "warming up").unwrap();
    assert_eq!(warm["stream"], "stderr");
    let seqs: Vec<i64> = stored.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq increases");

    // Live: follow from the last stored line, then make the app print.
    let last = *seqs.last().unwrap();
    let mut follow = app
        .get(&format!(
            "/api/v1/services/{id}/logs?follow=true&since={last}"
        ))
        .header("Accept", "text/event-stream")
        .sent()
        .await;
    assert_eq!(follow.headers()["content-type"], "text/event-stream");
    let ingress = std::fs::read_to_string(agent.data.path().join("ingress.addr")).unwrap();
    let hit = reqwest::Client::new()
        .get(format!("http://{ingress}/ping-42"))
        .header("Host", "web.test")
        .sent()
        .await;
    assert_eq!(hit.text().await.unwrap(), "ok");
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = follow.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("hit /ping-42") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "live line not seen; got {seen:?}");
    assert!(seen.starts_with("id: "), "server-sent events: {seen:?}");
    assert!(
        !seen.contains("boot 1\""),
        "nothing before `since` was resent"
    );
}

/// More lines at once than dployrd's queue to Base holds (64 Ki).
const BURST: usize = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_larger_than_the_agents_queue_loses_no_line_while_base_is_connected() {
    let d = crate::deploy::Deployer::start().await;
    let repo = Repo::new();
    let app = format!(
        "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');\n\
         setImmediate(() => {{ for (let i = 0; i < {BURST}; i++) console.log(`burst ${{i}}`); }});\n"
    );
    repo.commit(
        &[
            (
                "package.json",
                r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#,
            ),
            ("server.js", &app),
        ],
        "v1",
    );
    let svc = d
        .service(
            "loud",
            crate::deploy::git_source(&repo),
            json!({"build_command": "true"}),
        )
        .await;
    d.live(&d.deploy(&svc).await).await;
    let base = &d.gw.base;
    let owner = &d.gw.owner;
    // The newest stored lines (older ones are trimmed past 50,000 per service).
    let newest = || async {
        base.read_logs(owner, &svc, None, 0, control::logs::MAX_READ)
            .await
            .unwrap()
    };
    eventually(
        Duration::from_secs(120),
        "the burst's last line stored",
        || async {
            newest()
                .await
                .0
                .iter()
                .any(|l| l.line == format!("burst {}", BURST - 1))
        },
    )
    .await;
    let (page, dropped) = newest().await;
    let numbers: Vec<usize> = page
        .iter()
        .filter_map(|l| l.line.strip_prefix("burst ")?.parse().ok())
        .collect();
    let first = numbers[0];
    assert!(
        numbers.iter().enumerate().all(|(i, n)| *n == first + i),
        "a gap: lines were lost between {first} and {}",
        BURST - 1
    );
    // Base numbers every line it stores from 1 up, and this Base stores only this service's:
    // a line lost anywhere on the way leaves the newest number short of the burst.
    let stored = page.last().unwrap().seq;
    assert!(stored >= BURST as i64, "only {stored} lines reached Base");
    assert!(dropped > 0, "the oldest lines were trimmed, and counted");
}
