//! SIGKILL the real `dployr-server` binary and start it again on the same ports and data dir:
//! the agent, never restarted, must be online again within 5 seconds.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::{Invite, RunningAgent, eventually};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &std::path::Path, http: u16, gateway: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dployr-server"))
        .args([
            "--listen",
            &format!("127.0.0.1:{http}"),
            "--gateway-listen",
            &format!("127.0.0.1:{gateway}"),
        ])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start dployr-server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_are_back_online_within_5s_after_base_is_killed_and_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let (http, gateway) = (free_port(), free_port());
    let url = format!("http://127.0.0.1:{http}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let healthy = || async {
        client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    };

    let mut base = start(dir.path(), http, gateway);
    eventually(Duration::from_secs(30), "Base healthy", healthy).await;
    let signup: Value = client
        .post(format!("{url}/api/v1/auth/signup"))
        .header("Origin", &url)
        .json(&json!({ "email": "ana@example.com", "password": "correct horse battery", "name": "Ana" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cluster = signup["cluster"]["id"].as_str().unwrap().to_string();
    let made: Value = client
        .post(format!("{url}/api/v1/clusters/{cluster}/instances"))
        .header("Origin", &url)
        .json(&json!({ "name": "web-1" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cmd = made["install_command"].as_str().unwrap();
    let arg = |flag: &str| {
        cmd.split_whitespace()
            .skip_while(|w| *w != flag)
            .nth(1)
            .unwrap()
            .to_string()
    };
    let invite = Invite {
        instance_id: made["instance"]["id"].as_str().unwrap().to_string(),
        token: arg("--token"),
        url: arg("--url"),
        pin: agent::state::parse_pin(&arg("--pin")).unwrap(),
    };
    let status = || async {
        let list: Value = match client
            .get(format!("{url}/api/v1/clusters/{cluster}/instances"))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => return String::new(),
        };
        list["instances"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let agent = RunningAgent::join_and_run(&invite).await;
    eventually(
        Duration::from_secs(10),
        "online before the kill",
        || async { status().await == "online" },
    )
    .await;

    base.kill().expect("SIGKILL Base");
    base.wait().unwrap();
    eventually(Duration::from_secs(5), "agent notices", || async {
        agent.status().is_some_and(|s| s.state != "online")
    })
    .await;

    let mut base = start(dir.path(), http, gateway);
    let restarted = tokio::time::Instant::now();
    eventually(Duration::from_secs(30), "Base healthy again", healthy).await;
    eventually(Duration::from_secs(5), "agent back online", || async {
        status().await == "online"
    })
    .await;
    let took = restarted.elapsed();
    assert!(took < Duration::from_secs(5), "back online after {took:?}");
    base.kill().ok();
    base.wait().ok();
}
