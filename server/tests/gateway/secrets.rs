//! Secrets end to end through the REST API, a real dployrd and a real Node service: the service
//! gets the real values, and the plaintext appears nowhere else: no API response, no SSR page,
//! no line of Base's or dployrd's own logs, no service log line, no event, no byte of the
//! database. A key rotation (stop Base, `rotate-key`, start) keeps every secret deployable.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Fetch, TestApp};
use crate::{RunningAgent, add_instance, base_with_owner, deploy_live, eventually};
use testkit::Repo;

const TOKEN: &str = "canary-tok-5d1c7a3e9b41";
const CERT: &str = "canary-line-one-8f2a\ncanary-line-two-77c3";
/// What must never appear outside the service itself.
const PLAINTEXTS: [&str; 3] = [TOKEN, "canary-line-one-8f2a", "canary-line-two-77c3"];

const PKG: &str = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;
/// Prints its whole environment, then answers with the token reversed (so the answer proves
/// the value arrived without carrying it).
const SERVER: &str = "console.log('runtime sees ' + process.env.API_TOKEN);\n\
    console.log(process.env.TLS_CERT);\n\
    console.log(JSON.stringify(process.env));\n\
    require('http').createServer((q, s) => s.end(process.env.API_TOKEN.split('').reverse().join('') \
    + '|' + process.env.TLS_CERT.split('\\n').length + '|' + process.env.GREETING))\
    .listen(process.env.PORT, '127.0.0.1');\n";

/// Everything Base and dployrd log in this test binary from now on (at debug level).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Captured {
    let captured = Captured::default();
    let sink = captured.clone();
    let filter = tracing_subscriber::EnvFilter::new(
        "debug,sqlx=warn,hyper=info,hyper_util=info,h2=info,rustls=info,tungstenite=info,\
         tokio_tungstenite=info,reqwest=info",
    );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || sink.clone())
        .try_init()
        .expect("the only global subscriber in this binary");
    captured
}

fn assert_clean(what: &str, text: &str) {
    for p in PLAINTEXTS {
        assert!(!text.contains(p), "a secret's plaintext in {what}");
    }
}

async fn text_of(app: &TestApp, path: &str) -> String {
    let r = app.get(path).sent().await;
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.text().await.unwrap()
}

async fn set(app: &TestApp, svc: &str, key: &str, value: &str, secret: bool) {
    let r = app
        .put(&format!("/api/v1/services/{svc}/env/{key}"))
        .json(&json!({ "value": value, "secret": secret }))
        .sent()
        .await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
}

async fn answer(agent: &RunningAgent) -> String {
    let ingress = std::fs::read_to_string(agent.data.path().join("ingress.addr")).unwrap();
    reqwest::Client::new()
        .get(format!("http://{ingress}/"))
        .header("Host", "shh.test")
        .fetch_text()
        .await
}

fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_the_service_and_their_plaintext_leaks_nowhere() {
    let logs = capture_logs();
    let (mut app, cluster) = base_with_owner().await;
    let invite = add_instance(&app, &cluster, "web-1").await;
    let agent = RunningAgent::join_and_run(&invite).await;
    let repo = Repo::new();
    repo.commit(&[("package.json", PKG), ("server.js", SERVER)], "v1");
    let spec = json!({"name": "shh", "instance_id": invite.instance_id,
                      "source": {"git": {"url": repo.url()}},
                      "build_command": "echo build sees $API_TOKEN; echo \"$TLS_CERT\"; env | sort"});
    let id = app.create_service(&cluster, &spec).await.id;
    set(&app, &id, "API_TOKEN", TOKEN, true).await;
    set(&app, &id, "TLS_CERT", CERT, true).await;
    set(&app, &id, "GREETING", "hello-plain", false).await;

    // Listed: names, who and when; the plain value; never a secret's.
    let env: Value = app.get(&format!("/api/v1/services/{id}/env")).fetch().await;
    let vars = env["vars"].as_array().unwrap();
    let keys: Vec<&str> = vars.iter().map(|v| v["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["API_TOKEN", "GREETING", "TLS_CERT"]);
    assert_eq!(vars[1]["value"], "hello-plain");
    assert!(vars[0].get("value").is_none() && vars[0]["secret"] == true);
    assert_eq!(vars[0]["updated_by"], "Ana Lopez");
    assert_eq!(env["changed_since_deploy"], true);

    let dep = deploy_live(&app, &id).await;
    assert_eq!(
        answer(&agent).await,
        format!("{}|2|hello-plain", reversed(TOKEN))
    );
    let svc_after: Value = app.get(&format!("/api/v1/services/{id}")).fetch().await;
    assert_eq!(
        svc_after["env_changed"], false,
        "a deployment took the change"
    );

    // The build and the service printed the values; the stored lines show [redacted].
    let logs_path = format!("/api/v1/services/{id}/logs?limit=10000");
    eventually(Duration::from_secs(10), "runtime output stored", || async {
        text_of(&app, &logs_path).await.contains("runtime sees")
    })
    .await;
    let service_logs = text_of(&app, &logs_path).await;
    assert!(
        service_logs.contains("build sees [redacted]"),
        "{service_logs}"
    );
    assert!(service_logs.contains("runtime sees [redacted]"));

    // Every API response and page a member could look at.
    let mut seen = vec![("service logs".to_string(), service_logs)];
    for path in [
        format!("/api/v1/services/{id}/env"),
        format!("/api/v1/services/{id}"),
        format!("/api/v1/clusters/{cluster}/services"),
        format!("/api/v1/services/{id}/deployments"),
        format!("/api/v1/deployments/{dep}"),
        format!("/api/v1/deployments/{dep}/logs?limit=10000"),
        format!("/api/v1/clusters/{cluster}/events"),
        format!("/api/v1/clusters/{cluster}/instances"),
        "/api/v1/me".to_string(),
        format!("/c/{cluster}/services/{id}"),
        format!("/c/{cluster}/services"),
        format!("/c/{cluster}"),
    ] {
        seen.push((path.clone(), text_of(&app, &path).await));
    }
    let events = &seen.iter().find(|(p, _)| p.ends_with("/events")).unwrap().1;
    assert!(events.contains("env.set") && events.contains("API_TOKEN"));
    for (what, text) in &seen {
        assert_clean(what, text);
    }

    // Key rotation: stop Base, rotate, start; the next deploy still gets the real values.
    app.restart(|config| async move {
        server::tasks::run(&config, &server::config::Task::RotateKey)
            .await
            .expect("rotate-key");
    })
    .await;
    let key_files = std::fs::read_dir(&app.data_dir)
        .unwrap()
        .filter(|e| {
            let e = e.as_ref().unwrap();
            e.file_name().to_string_lossy().starts_with("master.key")
        })
        .count();
    assert_eq!(key_files, 2, "the new key and the kept old one");
    // dployrd retries with jittered exponential backoff (up to 16 s a try by the time Base is
    // back), so give it a few tries.
    eventually(Duration::from_secs(45), "agent back online", || async {
        crate::status_of(&app, &cluster, &invite.instance_id)
            .await
            .as_deref()
            == Some("online")
    })
    .await;
    set(&app, &id, "GREETING", "hello-again", false).await;
    deploy_live(&app, &id).await;
    assert_eq!(
        answer(&agent).await,
        format!("{}|2|hello-again", reversed(TOKEN))
    );

    // Base's and dployrd's own logs, and every byte of the database.
    let own_logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        own_logs.contains("DEBUG") || own_logs.contains("INFO"),
        "logs were captured"
    );
    assert_clean("Base's and dployrd's logs", &own_logs);
    for entry in std::fs::read_dir(&app.data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("dployr.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            assert_clean(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
    drop(agent);
    app.stop().await;
}
