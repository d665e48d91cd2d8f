//! Secrets given with a deploy order reach the build and the release as environment variables,
//! and never leave the instance in a log line: the engine runs a real build and a real service
//! that print them (whole and line by line), and every line queued for Base or kept on the
//! instance shows `[redacted]` instead. The service itself sees the real value.

use std::time::Duration;

use agent::engine::{Engine, EngineConfig};
use agent::ingress::Routes;
use proto::deploy::DeployState;
use proto::service::{GitSource, HealthCheck, RestartPolicy, Runtime, ServiceSpec, Source};
use proto::wire::{AgentMsg, Command, DeployOrder, LogRecord, Secrets};
use testkit::git;
use tokio::sync::mpsc;

const TOKEN: &str = "tok-3f9a1c77e2";
const PEM: &str = "-----BEGIN TEST KEY-----\nQUJDREVGR0hJSktMTU5PUA\n-----END TEST KEY-----";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_the_service_and_are_redacted_from_every_log_line() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("requirements.txt"), "").unwrap();
    std::fs::write(
        repo.path().join("app.py"),
        "import http.server, os\n\
         print('started with', os.environ['API_TOKEN'], flush=True)\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       self.send_response(200); self.end_headers()\n\
         \x20       self.wfile.write(os.environ['API_TOKEN'][::-1].encode())\n\
         http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n",
    )
    .unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "app"]);

    let data = tempfile::tempdir().unwrap();
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let (ship_tx, mut shipped) = mpsc::channel::<LogRecord>(10_000);
    let engine = Engine::new(
        EngineConfig {
            services_dir: data.path().join("services"),
            git_cache: data.path().join("git-cache"),
            domain: "test".into(),
            docker: Default::default(),
        },
        Routes::new(),
        reports_tx,
        ship_tx,
    );
    let order = DeployOrder {
        deployment_id: "dep_1".into(),
        service_id: "svc_1".into(),
        instance_name: "web-1".into(),
        spec: ServiceSpec {
            name: "web".into(),
            source: Source::Git(GitSource {
                url: format!("file://{}", repo.path().display()),
                branch: "main".into(),
            }),
            runtime: Some(Runtime::Python),
            build_command: Some(
                "echo \"building with $API_TOKEN\"; printf '%s\\n' \"$SIGNING_KEY\"".into(),
            ),
            start_command: Some("python3 app.py".into()),
            port: None,
            env: [("PLAIN".to_string(), "visible".to_string())].into(),
            health_check: HealthCheck::default(),
            restart: RestartPolicy::Never,
            domains: vec![],
            build_timeout_secs: Some(60),
            root_dir: None,
            kind: None,
            runtime_version: None,
        },
        git_ref: None,
        build_timeout_secs: 60,
        drain_secs: 1,
        secrets: Secrets(
            [
                ("API_TOKEN".to_string(), TOKEN.to_string()),
                ("SIGNING_KEY".to_string(), PEM.to_string()),
            ]
            .into(),
        ),
    };
    assert!(
        !format!("{order:?}").contains(TOKEN),
        "Debug names secrets, never values"
    );
    engine.handle(Command::Deploy(Box::new(order))).await;
    let live = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(msg) = reports.recv().await {
            if let AgentMsg::Deploy(p) = msg
                && !p.state.in_progress()
            {
                return p;
            }
        }
        panic!("reports ended");
    })
    .await
    .expect("the deploy ended");
    assert_eq!(
        live.state,
        DeployState::Live,
        "{:?} {:?}",
        live.reason,
        live.log_tail
    );

    // The release has the real value.
    let upstream = engine.upstream_for("web.test").expect("routed");
    let body = reqwest_free_get(upstream).await;
    assert_eq!(body, TOKEN.chars().rev().collect::<String>());

    // Every line that left for Base, and every line kept here, is scrubbed.
    let mut lines = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !lines.iter().any(|l: &String| l.starts_with("started with")) {
        match tokio::time::timeout_at(deadline, shipped.recv()).await {
            Ok(Some(r)) => lines.push(r.line),
            _ => panic!("the release's first line never came: {lines:?}"),
        }
    }
    while let Ok(r) = shipped.try_recv() {
        lines.push(r.line);
    }
    let kept = engine.log_tail("svc_1", 1_000);
    for line in lines.iter().chain(&kept) {
        assert!(!line.contains(TOKEN), "a secret left in a log line: {line}");
        for part in PEM.lines() {
            assert!(
                !line.contains(part),
                "a line of a secret left in a log line: {line}"
            );
        }
    }
    for expected in [
        "building with [redacted]",
        "[redacted]",
        "started with [redacted]",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} not in {lines:?}"
        );
    }
    engine.stop_all().await;
}

/// A GET on the release's own port with nothing but a TCP stream.
async fn reqwest_free_get(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.0\r\nHost: web.test\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}
