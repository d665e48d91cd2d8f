//! Real deployments through the engine (a real build and a real service). Secrets given with a
//! deploy order reach the build and the release as environment variables, and never leave the
//! instance in a log line: the build and the service print them (whole and line by line), and
//! every line queued for Base or kept on the instance shows `[redacted]` instead. The service
//! itself sees the real value. And a release replaced by the next deploy drains for as long as
//! that order says.

use std::time::Duration;

use agent::engine::{Engine, EngineConfig};
use agent::ingress::Routes;
use proto::deploy::DeployState;
use proto::service::{GitSource, HealthCheck, RestartPolicy, Runtime, ServiceSpec, Source};
use proto::wire::{AgentMsg, Command, DeployOrder, DeployProgress, LogRecord, Secrets};
use testkit::git;
use tokio::sync::mpsc;

const TOKEN: &str = "tok-3f9a1c77e2";
const PEM: &str = "-----BEGIN TEST KEY-----\nQUJDREVGR0hJSktMTU5PUA\n-----END TEST KEY-----";

/// A git repository of a Python web app that prints `API_TOKEN` when it starts and answers
/// every GET with it reversed.
fn python_app() -> tempfile::TempDir {
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
    repo
}

/// An engine with its data in `data`, its reports and the log lines it ships.
fn engine(
    data: &std::path::Path,
) -> (
    Engine,
    mpsc::UnboundedReceiver<AgentMsg>,
    mpsc::Receiver<LogRecord>,
) {
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let (ship_tx, shipped) = mpsc::channel::<LogRecord>(10_000);
    let engine = Engine::new(
        EngineConfig {
            services_dir: data.join("services"),
            git_cache: data.join("git-cache"),
            domain: "test".into(),
            docker: Default::default(),
        },
        Routes::new(),
        reports_tx,
        ship_tx,
    );
    (engine, reports, shipped)
}

/// An order to deploy [`python_app`] from `repo` as `web`, with two secrets and a build that
/// prints them; a replaced release drains for 1 s.
fn order(deployment_id: &str, repo: &std::path::Path) -> DeployOrder {
    DeployOrder {
        deployment_id: deployment_id.into(),
        service_id: "svc_1".into(),
        instance_name: "web-1".into(),
        spec: ServiceSpec {
            name: "web".into(),
            source: Source::Git(GitSource {
                url: format!("file://{}", repo.display()),
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
            resources: Default::default(),
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
    }
}

/// The next deployment report that is no longer in progress.
async fn ended(reports: &mut mpsc::UnboundedReceiver<AgentMsg>) -> DeployProgress {
    tokio::time::timeout(Duration::from_secs(60), async {
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
    .expect("the deploy ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_the_service_and_are_redacted_from_every_log_line() {
    let repo = python_app();
    let data = tempfile::tempdir().unwrap();
    let (engine, mut reports, mut shipped) = engine(data.path());
    let order = order("dep_1", repo.path());
    assert!(
        !format!("{order:?}").contains(TOKEN),
        "Debug names secrets, never values"
    );
    engine.handle(Command::Deploy(Box::new(order))).await;
    let live = ended(&mut reports).await;
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

/// The order's `drain_secs` is what the replaced release gets: with 1 s it stops within a few
/// seconds of the switch, well before dployrd's old fixed 10 s drain would have ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_release_drains_for_the_orders_drain_secs() {
    let repo = python_app();
    let data = tempfile::tempdir().unwrap();
    let (engine, mut reports, _shipped) = engine(data.path());
    let mut upstreams = Vec::new();
    for id in ["dep_1", "dep_2"] {
        engine
            .handle(Command::Deploy(Box::new(order(id, repo.path()))))
            .await;
        let live = ended(&mut reports).await;
        assert_eq!(
            (live.deployment_id.as_str(), live.state),
            (id, DeployState::Live)
        );
        upstreams.push(engine.upstream_for("web.test").expect("routed"));
    }
    let (old, new) = (upstreams[0], upstreams[1]);
    assert_ne!(old, new, "each release has its own port");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::net::TcpStream::connect(old).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replaced release still answers 6 s after the switch"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        tokio::net::TcpStream::connect(new).await.is_ok(),
        "the new release serves"
    );
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
