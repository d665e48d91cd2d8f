//! Deploy benchmarks (`.ci/bench-deploy` runs these in release with `--ignored --nocapture`;
//! they print, never assert, timings): deploy overhead against a plain shell script doing the
//! same clone, build and start in the same run; log throughput and line latency to a REST
//! follower; dployrd's RSS running 20 services against its RSS running none.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent::state::DataDir;
use proto::api::CreateDeploymentRequest;
use proto::deploy::DeployState;
use serde_json::{Value, json};

use crate::commands::Gateway;
use crate::deploy::Repo;
use crate::{
    RunningAgent, add_instance, base_with_owner, eventually, kill_processes_under, status_of,
};

const PKG: &str = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;
const LOCK: &str = r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0"}}}"#;
const SERVER: &str =
    "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');\n";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The same work by hand: clone, `npm ci`, start, wait until it answers.
fn by_script(repo: &crate::deploy::RepoRef) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let script = format!(
        "git clone -q --depth 1 {url} app && cd app && npm ci >/dev/null 2>&1 && \
         (PORT={port} node server.js & echo $! > ../pid) && \
         until curl -fs http://127.0.0.1:{port}/ >/dev/null; do sleep 0.01; done",
        url = repo.url()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by .ci/bench-deploy"]
async fn bench_deploy_overhead_against_a_plain_script() {
    const RUNS: usize = 5;
    let gw = Gateway::start().await;
    let invite = gw.invite("web-1").await;
    let _agent = RunningAgent::join_and_run(&invite).await;
    gw.wait_online(&invite.instance_id, true).await;
    let repo = Repo::new();
    repo.commit(
        &[
            ("package.json", PKG),
            ("package-lock.json", LOCK),
            ("server.js", SERVER),
        ],
        "v1",
    );
    let req = serde_json::from_value(json!({
        "name": "web", "instance_id": invite.instance_id,
        "source": {"git": {"url": repo.url()}},
    }))
    .unwrap();
    let svc = gw
        .base
        .create_service(&gw.owner, &gw.cluster, req)
        .await
        .unwrap()
        .id;
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
                move || by_script(&Repo::at(url))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by .ci/bench-deploy"]
async fn bench_log_throughput_to_a_rest_follower() {
    const LINES: usize = 300_000;
    let (app, cluster) = base_with_owner().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    let _agent = RunningAgent::join_and_run(&invite).await;
    eventually(Duration::from_secs(10), "instance online", || async {
        status_of(&app, &cluster, &invite.instance_id)
            .await
            .as_deref()
            == Some("online")
    })
    .await;
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
    let svc: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/services"))
        .json(&json!({"name": "loud", "instance_id": invite.instance_id,
                      "source": {"git": {"url": repo.url()}}, "build_command": "true"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = svc["id"].as_str().unwrap().to_string();
    let made: Value = app
        .post(&format!("/api/v1/services/{id}/deployments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dep = made["deployment"]["id"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(120), "live", || async {
        let d: Value = app
            .get(&format!("/api/v1/deployments/{dep}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        d["state"] == "live"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let last: Vec<Value> = app
        .get(&format!("/api/v1/services/{id}/logs?limit=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
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
        .send()
        .await
        .unwrap();
    let ingress = std::fs::read_to_string(_agent.data.path().join("ingress.addr")).unwrap();
    client
        .get(format!("http://{ingress}/"))
        .header("Host", "loud.test")
        .send()
        .await
        .unwrap();
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
async fn app_cookie(app: &crate::support::TestApp) -> String {
    let r = app.login("ana@example.com", "correct horse battery").await;
    crate::support::set_cookie(&r)
        .split(';')
        .next()
        .unwrap()
        .to_string()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by .ci/bench-deploy"]
async fn bench_dployrd_rss_running_20_services() {
    const SERVICES: usize = 20;
    let gw = Gateway::start().await;
    let invite = gw.invite("web-1").await;
    let dir = tempfile::tempdir().unwrap();
    agent::join::join(
        &DataDir(dir.path().into()),
        &invite.url,
        &invite.token,
        &invite.pin,
    )
    .await
    .unwrap();
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
        let req = serde_json::from_value(json!({
            "name": format!("svc-{n}"), "instance_id": invite.instance_id,
            "source": {"git": {"url": source}}, "build_command": "true",
        }))
        .unwrap();
        let svc = gw
            .base
            .create_service(&gw.owner, &gw.cluster, req)
            .await
            .unwrap()
            .id;
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
