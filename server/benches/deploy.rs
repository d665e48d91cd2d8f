//! Deploy benchmarks, printed and never asserted: deploy overhead against a plain shell script
//! doing the same clone, build and start in the same run; log throughput and line latency to a
//! REST follower; dployrd's RSS running 20 services against its RSS running none.
//!
//! `cargo bench -p server --bench deploy [-- NAME…]` runs those whose name contains a NAME (all
//! without one); `.ci/bench-deploy` runs them in release. They reuse the gateway tests' harness
//! (`server/tests/gateway`), whose tests are not compiled here.

#[path = "../tests/api/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../tests/gateway/harness.rs"]
#[allow(dead_code)]
mod harness;

#[path = "../tests/gateway/commands.rs"]
#[allow(dead_code, unused_imports)]
mod commands;

#[path = "../tests/gateway/deploy.rs"]
#[allow(dead_code, unused_imports)]
mod deploy;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proto::api::CreateDeploymentRequest;
use proto::deploy::DeployState;
use serde_json::{Value, json};

use commands::Gateway;
use harness::*;
use support::{Fetch, TestApp, session_cookie};
use testkit::Repo;
use testkit::free_port;

const PKG: &str = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;
const LOCK: &str = r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0"}}}"#;
const SERVER: &str =
    "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');\n";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The same work by hand: clone, `npm ci`, start, wait until it answers.
fn by_script(url: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let script = format!(
        "git clone -q --depth 1 {url} app && cd app && npm ci >/dev/null 2>&1 && \
         (PORT={port} node server.js & echo $! > ../pid) && \
         until curl -fs http://127.0.0.1:{port}/ >/dev/null; do sleep 0.01; done"
    );
    let start = Instant::now();
    let ok = Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    let took = start.elapsed();
    assert!(ok, "the plain script failed");
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let _ = Command::new("kill").arg(pid.trim()).status();
    took
}

async fn deploy_overhead_against_a_plain_script() {
    const RUNS: usize = 5;
    let (gw, invite, _agent) = Gateway::with_agent("web-1").await;
    let repo = Repo::new();
    repo.commit(
        &[
            ("package.json", PKG),
            ("package-lock.json", LOCK),
            ("server.js", SERVER),
        ],
        "v1",
    );
    let svc = gw
        .service(json!({
            "name": "web", "instance_id": invite.instance_id,
            "source": {"git": {"url": repo.url()}},
        }))
        .await;
    let (mut ours, mut script) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        // A new commit each time, so every deploy fetches, builds and starts for real.
        repo.commit(&[("version.txt", &run.to_string())], &format!("run {run}"));
        let start = Instant::now();
        let dep = gw
            .base
            .create_deployment(&gw.owner, &svc, CreateDeploymentRequest::default(), None)
            .await
            .and_then(control::idempotency::Queued::into_deployment)
            .unwrap()
            .id;
        loop {
            let d = gw.base.get_deployment(&gw.owner, &dep).await.unwrap();
            if d.state == DeployState::Live {
                break;
            }
            assert!(d.state.in_progress(), "{:?}", d.reason);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ours.push(start.elapsed());
        script.push(
            tokio::task::spawn_blocking({
                let url = repo.url();
                move || by_script(&url)
            })
            .await
            .unwrap(),
        );
    }
    let (o, s) = (median(ours.clone()), median(script.clone()));
    println!(
        "deploy overhead: dployr median {:.0} ms, plain script median {:.0} ms, overhead {:.0} ms, ratio {:.2}x; runs dployr {:?} script {:?}",
        o.as_secs_f64() * 1e3,
        s.as_secs_f64() * 1e3,
        (o.as_secs_f64() - s.as_secs_f64()) * 1e3,
        o.as_secs_f64() / s.as_secs_f64(),
        ours.iter().map(|d| d.as_millis()).collect::<Vec<_>>(),
        script.iter().map(|d| d.as_millis()).collect::<Vec<_>>(),
    );
}

async fn log_throughput_to_a_rest_follower() {
    const LINES: usize = 300_000;
    let (app, cluster, invite, _agent) = base_with_agent("web-1").await;
    // Waits for a request, then prints LINES lines as fast as it can, each with its time.
    let printer = format!(
        "require('http').createServer((q, s) => {{ s.end('go');
           let i = 0; const out = process.stdout;
           const burst = () => {{ let ok = true;
             while (i < {LINES} && ok) {{ ok = out.write(Date.now() + ' ' + (i++) + ' ' + 'x'.repeat(40) + '\\n'); }}
             if (i < {LINES}) out.once('drain', burst); }};
           burst(); }}).listen(process.env.PORT, '127.0.0.1');\n"
    );
    let repo = Repo::new();
    repo.commit(&[("package.json", PKG), ("server.js", &printer)], "v1");
    let spec = json!({"name": "loud", "instance_id": invite.instance_id,
                      "source": {"git": {"url": repo.url()}}, "build_command": "true"});
    let id = app.create_service(&cluster, &spec).await.id;
    deploy_live(&app, &id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let last: Vec<Value> = app
        .get(&format!("/api/v1/services/{id}/logs?limit=1"))
        .fetch_text()
        .await
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let since = last.last().map(|l| l["seq"].as_i64().unwrap()).unwrap_or(0);
    let client = reqwest::Client::new();
    let mut follow = client
        .get(format!(
            "{}/api/v1/services/{id}/logs?follow=true&since={since}",
            app.url
        ))
        .header("Cookie", app_cookie(&app).await)
        .sent()
        .await;
    let ingress = std::fs::read_to_string(_agent.data.path().join("ingress.addr")).unwrap();
    client
        .get(format!("http://{ingress}/"))
        .header("Host", "loud.test")
        .sent()
        .await;
    let start = Instant::now();
    let mut last_at = start;
    let (mut got, mut pending, mut latencies) = (0usize, String::new(), Vec::with_capacity(LINES));
    // Lines the agent could not queue are dropped by design; the follower stops once nothing
    // more arrives for a while, and the time counts up to the last line received.
    while got < LINES {
        let next = tokio::time::timeout(Duration::from_secs(3), follow.chunk()).await;
        let Ok(Ok(Some(chunk))) = next else {
            break;
        };
        last_at = Instant::now();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        pending.push_str(&String::from_utf8_lossy(&chunk));
        let Some(end) = pending.rfind('\n') else {
            continue;
        };
        for line in pending[..end].lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let printed = v["line"]
                .as_str()
                .and_then(|l| l.split(' ').next())
                .and_then(|t| t.parse::<i64>().ok());
            if let Some(printed) = printed {
                latencies.push(now_ms - printed);
                got += 1;
            }
        }
        pending.drain(..=end);
    }
    let took = last_at - start;
    latencies.sort();
    let pct = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(-1)
    };
    // Baseline in the same run: the same printing loop into a plain pipe that `wc -l` reads.
    let plain = format!(
        "let i = 0; const out = process.stdout;
         const burst = () => {{ let ok = true;
           while (i < {LINES} && ok) {{ ok = out.write(Date.now() + ' ' + (i++) + ' ' + 'x'.repeat(40) + '\\n'); }}
           if (i < {LINES}) out.once('drain', burst); }};
         burst();"
    );
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), plain).unwrap();
    let started = Instant::now();
    let counted = Command::new("sh")
        .args(["-c", &format!("node {} | wc -l", script.path().display())])
        .output()
        .unwrap();
    let pipe = started.elapsed();
    let piped: usize = String::from_utf8_lossy(&counted.stdout)
        .trim()
        .parse()
        .unwrap();
    let rate = got as f64 / took.as_secs_f64();
    let baseline = piped as f64 / pipe.as_secs_f64();
    println!(
        "log throughput: {got} of {LINES} printed lines reached the follower in {:.2} s = {rate:.0} lines/s; baseline, the same printer into `wc -l`: {piped} lines in {:.2} s = {baseline:.0} lines/s (ratio {:.2}); line latency print -> follower p50 {} ms, p99 {} ms, max {} ms",
        took.as_secs_f64(),
        pipe.as_secs_f64(),
        rate / baseline,
        pct(50),
        pct(99),
        latencies.last().copied().unwrap_or(-1)
    );
}

/// The session cookie of the app's signed-in owner (its client keeps cookies in a jar).
async fn app_cookie(app: &TestApp) -> String {
    session_cookie(&app.login("ana@example.com", support::PASSWORD).await)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

async fn dployrd_rss_running_20_services() {
    const SERVICES: usize = 20;
    let gw = Gateway::start().await;
    let invite = gw.invite("web-1").await;
    let dir = gw.enroll(&invite).await;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_dployr-server")).with_file_name("dployrd");
    let mut child = Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["run", "--ingress-listen", "127.0.0.1:0"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    gw.wait_online(&invite.instance_id, true).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = rss_kib(child.id());
    let repo = Repo::new();
    repo.commit(&[("package.json", PKG), ("server.js", SERVER)], "v1");
    let site = Repo::new();
    site.commit(&[("index.html", "<h1>hi</h1>")], "site");
    let mut deps = Vec::new();
    for n in 0..SERVICES {
        // Half Node processes (dployrd supervises them), half static sites (dployrd serves them).
        let source = if n % 2 == 0 { repo.url() } else { site.url() };
        let svc = gw
            .service(json!({
                "name": format!("svc-{n}"), "instance_id": invite.instance_id,
                "source": {"git": {"url": source}}, "build_command": "true",
            }))
            .await;
        deps.push(
            gw.base
                .create_deployment(&gw.owner, &svc, CreateDeploymentRequest::default(), None)
                .await
                .and_then(control::idempotency::Queued::into_deployment)
                .unwrap()
                .id,
        );
    }
    for dep in &deps {
        let start = Instant::now();
        while gw.base.get_deployment(&gw.owner, dep).await.unwrap().state != DeployState::Live {
            assert!(start.elapsed() < Duration::from_secs(300), "{dep} not live");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(15)).await;
    let busy = rss_kib(child.id());
    println!(
        "dployrd RSS: {:.1} MiB with 0 services, {:.1} MiB running {SERVICES} (10 Node, 10 static), ratio {:.2}x, {:.0} KiB per service",
        idle as f64 / 1024.0,
        busy as f64 / 1024.0,
        busy as f64 / idle as f64,
        (busy - idle) as f64 / SERVICES as f64
    );
    child.kill().unwrap();
    child.wait().unwrap();
    kill_processes_under(dir.path());
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; any other word picks benchmarks by name.
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| names.is_empty() || names.iter().any(|n| name.contains(n.as_str()));
    if wanted("deploy_overhead_against_a_plain_script") {
        deploy_overhead_against_a_plain_script().await;
    }
    if wanted("log_throughput_to_a_rest_follower") {
        log_throughput_to_a_rest_follower().await;
    }
    if wanted("dployrd_rss_running_20_services") {
        dployrd_rss_running_20_services().await;
    }
}
