//! Real deployments through the engine with cgroups: a daemon a build step starts (`setsid
//! nohup`, out of the step's process group) dies with the cancel and the timeout (L11), a service
//! over its memory limit is killed and its log and run reason say so, and a build over its
//! memory limit fails with that reason.
//!
//! Where this machine gives no writable cgroup (not root, read-only `/sys/fs/cgroup`), each test
//! says why and returns; where it does (root here and in CI), a broken feature fails them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agent::deploy::process::process_alive;
use agent::engine::{Engine, EngineConfig};
use agent::ingress::Routes;
use proto::deploy::DeployState;
use proto::resources::Resources;
use proto::service::{GitSource, HealthCheck, RestartPolicy, Runtime, ServiceSpec, Source};
use proto::wire::{AgentMsg, Command, DeployOrder, DeployProgress, LogRecord, RunState};
use testkit::git;
use tokio::sync::mpsc;

/// Whether this process can make a memory cgroup under its own one (found here, not with the
/// code under test, so a broken detection fails the tests instead of skipping them).
fn cgroups_writable() -> bool {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let memory_v1 = own
        .lines()
        .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_owned()));
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
    let dir: PathBuf = match (memory_v1, v2) {
        (_, true) => {
            let path = own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .unwrap_or("/");
            Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'))
        }
        (Some(path), false) => {
            Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/'))
        }
        (None, false) => return false,
    };
    let probe = dir.join(format!("dployr-test-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    let _ = std::fs::remove_dir(&probe);
    if !ok {
        eprintln!(
            "SKIPPED: no writable memory cgroup under {} (not root?)",
            dir.display()
        );
    }
    ok
}

/// A Python web app: answers GET / with `ok`, and GET /eat by taking 200 MB.
fn python_app() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("requirements.txt"), "").unwrap();
    std::fs::write(
        repo.path().join("app.py"),
        "import http.server, os\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       if self.path == '/eat':\n\
         \x20           self.server.eaten = b'x' * (200 * 1024 * 1024)\n\
         \x20       self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n\
         http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n",
    )
    .unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "app"]);
    repo
}

fn engine(
    data: &Path,
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

/// An order for `id`, of a service of its own per test (`svc_<test>`): as root, each service gets
/// a system user named after it, and tests run in parallel.
fn order(id: &str, repo: &Path, build: &str, resources: Resources) -> DeployOrder {
    let test = std::thread::current()
        .name()
        .unwrap_or("test")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect::<String>();
    DeployOrder {
        deployment_id: id.into(),
        service_id: format!("svc_{test}").into(),
        instance_name: "web-1".into(),
        spec: ServiceSpec {
            name: "web".into(),
            source: Source::Git(GitSource {
                url: format!("file://{}", repo.display()),
                branch: "main".into(),
            }),
            runtime: Some(Runtime::Python),
            build_command: Some(build.into()),
            start_command: Some("python3 app.py".into()),
            port: None,
            env: Default::default(),
            health_check: HealthCheck::default(),
            restart: RestartPolicy::Never,
            domains: vec![],
            build_timeout_secs: None,
            root_dir: None,
            kind: None,
            runtime_version: None,
            resources,
        },
        git_ref: None,
        build_timeout_secs: 120,
        drain_secs: 0,
        secrets: Default::default(),
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

/// A build step that starts a daemon in a session of its own (its pid in `pid_file`), then
/// waits.
fn daemon_step(pid_file: &Path) -> String {
    format!(
        "setsid nohup sh -c 'echo $$ > {}; exec sleep 1000' >/dev/null 2>&1 & sleep 1000",
        pid_file.display()
    )
}

/// The daemon's pid, once it has written it.
async fn daemon_pid(pid_file: &Path) -> i32 {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Ok(text) = std::fs::read_to_string(pid_file)
                && let Ok(pid) = text.trim().parse()
            {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the build step started its daemon")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l11_a_daemon_started_by_a_build_dies_with_the_cancel() {
    if !cgroups_writable() {
        return;
    }
    let repo = python_app();
    let data = tempfile::tempdir().unwrap();
    let (engine, mut reports, _shipped) = engine(data.path());
    // Where the build (as the service's own user, when root) may write its daemon's pid: not in
    // dployrd's data dir, which only root may write.
    let marks = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        marks.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();

    // Cancel.
    let pid_file = marks.path().join("cancelled.pid");
    let step = daemon_step(&pid_file);
    engine
        .handle(Command::Deploy(Box::new(order(
            "dep_1",
            repo.path(),
            &step,
            Resources::default(),
        ))))
        .await;
    let daemon = daemon_pid(&pid_file).await;
    assert!(process_alive(daemon));
    engine
        .handle(Command::CancelDeploy {
            deployment_id: "dep_1".into(),
        })
        .await;
    let end = ended(&mut reports).await;
    assert_eq!(end.state, DeployState::Cancelled, "{:?}", end.reason);
    assert!(
        !process_alive(daemon),
        "the build's setsid daemon {daemon} survived the cancel"
    );

    // Timeout.
    let pid_file = marks.path().join("timed-out.pid");
    let mut timed = order(
        "dep_2",
        repo.path(),
        &daemon_step(&pid_file),
        Resources::default(),
    );
    timed.build_timeout_secs = 3;
    engine.handle(Command::Deploy(Box::new(timed))).await;
    let daemon = daemon_pid(&pid_file).await;
    let end = ended(&mut reports).await;
    assert_eq!(end.state, DeployState::TimedOut, "{:?}", end.reason);
    assert!(
        !process_alive(daemon),
        "the build's setsid daemon {daemon} survived the timeout"
    );
    engine.stop_all().await;
    testkit::kill_processes_under(data.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limit_kills_a_service_allocating_past_it_and_says_so() {
    if !cgroups_writable() {
        return;
    }
    let repo = python_app();
    let data = tempfile::tempdir().unwrap();
    let (engine, mut reports, mut shipped) = engine(data.path());
    let limits = Resources {
        memory_mb: Some(64),
        ..Resources::default()
    };
    engine
        .handle(Command::Deploy(Box::new(order(
            "dep_1",
            repo.path(),
            "true",
            limits,
        ))))
        .await;
    let live = ended(&mut reports).await;
    assert_eq!(
        live.state,
        DeployState::Live,
        "{:?} {:?}",
        live.reason,
        live.log_tail
    );

    let upstream = engine.upstream_for("web.test").expect("routed");
    // The answer never comes: the process dies on the way.
    let _ = get(upstream, "/eat").await;

    let said = "killed: out of memory (limit 64 MB)";
    let report = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match reports.recv().await.expect("reports go on") {
                AgentMsg::Service(r) if r.run != RunState::Running => return r,
                _ => {}
            }
        }
    })
    .await
    .expect("the service's end was reported");
    // A crash, so Base records it as an event, even though the policy does not restart it.
    assert_eq!(report.run, RunState::Crashed, "{report:?}");
    assert_eq!(report.reason.as_deref(), Some(said), "{report:?}");
    let mut lines = Vec::new();
    while let Ok(r) = shipped.try_recv() {
        lines.push(r.line);
    }
    assert!(
        lines.iter().any(|l| l.contains(said)),
        "{said:?} not in the service's log: {lines:?}"
    );
    engine.stop_all().await;
    testkit::kill_processes_under(data.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_over_its_memory_limit_fails_with_that_reason() {
    if !cgroups_writable() {
        return;
    }
    let repo = python_app();
    let data = tempfile::tempdir().unwrap();
    let (engine, mut reports, _shipped) = engine(data.path());
    let limits = Resources {
        build_memory_mb: Some(64),
        ..Resources::default()
    };
    // `tail` keeps the whole line (200 MB without a newline) in memory.
    let step = "head -c 200M /dev/zero | tail > /dev/null";
    engine
        .handle(Command::Deploy(Box::new(order(
            "dep_1",
            repo.path(),
            step,
            limits,
        ))))
        .await;
    let end = ended(&mut reports).await;
    assert_eq!(end.state, DeployState::Failed, "{:?}", end.reason);
    let reason = end.reason.unwrap_or_default();
    assert!(
        reason.contains("build exceeded its memory limit (64 MB)"),
        "{reason}"
    );
    engine.stop_all().await;
    testkit::kill_processes_under(data.path());
}

/// GET `path` of `addr` over HTTP/1.0; the body, or the error.
async fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await?;
    conn.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .await?;
    let mut out = String::new();
    conn.read_to_string(&mut out).await?;
    Ok(out)
}
