//! Deployments end to end: a real Base domain layer and gateway, a real dployrd (engine and
//! ingress in this process), real git repositories made by the test, real `node` and
//! `python3`, requests through the ingress by `Host`. The [`Deployer`] they use lives in
//! [`deployer`].

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proto::deploy::DeployState;

// Beside this file for the tests and the benches (which include this one by `#[path]`).
#[path = "deploy/deployer.rs"]
mod deployer;
pub use deployer::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_app_goes_live_and_a_new_version_replaces_it_without_one_failed_request() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(&files(&node_app("v1")), "v1");
    let svc = d
        .service(
            "web",
            git_source(&repo),
            serde_json::json!({"health_check": {"http": {"path": "/"}}}),
        )
        .await;
    let first = d.deploy(&svc).await;
    let done = d.live(&first).await;
    assert_eq!(
        done.commit.as_deref().map(str::len),
        Some(40),
        "exact commit recorded"
    );
    assert_eq!(steps(&done), EVERY_STEP);
    assert_eq!(d.get("web.test").await.unwrap(), (200, "v1".into()));
    assert_eq!(d.get("nobody.test").await.unwrap().0, 404);

    // v2 deploys while requests keep coming: none may fail, and the answer must switch.
    repo.commit(&files(&node_app("v2")), "v2");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (stop, sent) = (stop.clone(), sent.clone());
        let client = d.client.clone();
        let url = format!("http://{}/", d.ingress());
        load.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) || answers.len() < 500 {
                let r = client.get(&url).header("Host", "web.test").send().await;
                let answer = match r {
                    Ok(r) if r.status() == 200 => r.text().await.unwrap_or_else(|e| e.to_string()),
                    Ok(r) => format!("status {}", r.status()),
                    Err(e) => format!("error {e}"),
                };
                answers.push(answer);
                sent.fetch_add(1, Ordering::Relaxed);
            }
            answers
        }));
    }
    let second = d.deploy(&svc).await;
    d.live(&second).await;
    // Until v1 has drained and stopped, so requests also cross v1 being stopped.
    let v1_dir = d
        .agent
        .data
        .path()
        .join("services")
        .join(&svc)
        .join("releases")
        .join(&first);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sent.load(Ordering::Relaxed) < 2_000 || !testkit::processes_under(&v1_dir).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "v1 still running 60 s after v2 went live"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for task in load {
        let answers = task.await.unwrap();
        total += answers.len();
        let bad: Vec<_> = answers
            .iter()
            .filter(|a| *a != "v1" && *a != "v2")
            .collect();
        assert!(
            bad.is_empty(),
            "failed requests during the deploy: {:?}",
            &bad[..bad.len().min(5)]
        );
        let first_v2 = answers
            .iter()
            .position(|a| a == "v2")
            .expect("switched to v2");
        assert!(
            answers[first_v2..].iter().all(|a| a == "v2"),
            "once v2 answered, v1 never did again"
        );
    }
    assert!(total >= 2_000, "only {total} requests");
    println!("{total} requests through the ingress during the deploy, none failed");
    let first_now = d.gw.base.get_deployment(&d.gw.owner, &first).await.unwrap();
    assert_eq!(first_now.state, DeployState::Superseded);

    // Rollback: v1's release is kept, so it comes back without a build.
    let started = Instant::now();
    let back = d.gw.base.rollback(&d.gw.owner, &svc, &first).await.unwrap();
    let took = started.elapsed();
    assert_eq!(back.state, DeployState::Live);
    assert_eq!(d.get("web.test").await.unwrap(), (200, "v1".into()));
    println!("rollback to v1 took {took:?}");
    let second_now =
        d.gw.base
            .get_deployment(&d.gw.owner, &second)
            .await
            .unwrap();
    assert_eq!(second_now.state, DeployState::RolledBack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_static_sites_are_served_by_host() {
    let d = Deployer::start().await;
    let py = Repo::new();
    py.commit(
        &[
            ("requirements.txt", ""),
            ("Procfile", "web: python app.py\n"),
            (
                "app.py",
                "import http.server, os\n\
                 class H(http.server.BaseHTTPRequestHandler):\n\
                 \x20   def do_GET(self):\n\
                 \x20       self.send_response(200); self.end_headers(); self.wfile.write(b'hello from python')\n\
                 http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n",
            ),
        ],
        "py",
    );
    let site = Repo::new();
    site.commit(&[("index.html", "<h1>static</h1>")], "site");
    let api = d
        .service("api", git_source(&py), serde_json::json!({}))
        .await;
    let www = d
        .service(
            "www",
            git_source(&site),
            serde_json::json!({"domains": ["www.example.com"]}),
        )
        .await;
    // A custom domain is routed once verified (domains.rs: an unverified one serves nothing).
    d.verify_domain(&www, "www.example.com").await;
    let (a, b) = (d.deploy(&api).await, d.deploy(&www).await);
    let (a, b) = (d.settled(&a).await, d.settled(&b).await);
    assert_eq!(a.state, DeployState::Live, "{:?}", a.reason);
    assert_eq!(b.state, DeployState::Live, "{:?}", b.reason);
    assert_eq!(
        d.get("api.test").await.unwrap(),
        (200, "hello from python".into())
    );
    assert_eq!(
        d.get("www.example.com").await.unwrap(),
        (200, "<h1>static</h1>".into())
    );
    assert_eq!(d.get("www.test").await.unwrap().0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_leave_the_live_release_serving_with_the_reason_and_log_tail() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(&files(&node_app("v1")), "v1");
    let svc = d
        .service("web", git_source(&repo), serde_json::json!({}))
        .await;
    let first = d.deploy(&svc).await;
    assert_eq!(d.settled(&first).await.state, DeployState::Live);

    let set = |patch: serde_json::Value| {
        let (base, owner, svc) = (d.gw.base.clone(), d.gw.owner.clone(), svc.clone());
        async move {
            let patch = serde_json::from_value(patch).unwrap();
            base.update_service(&owner, &svc, patch).await.unwrap();
        }
    };
    let cases = [
        (
            serde_json::json!({"build_command": "echo compiling; echo broken >&2; exit 3"}),
            DeployState::Failed,
            "exited with code 3",
        ),
        (
            serde_json::json!({"build_command": null, "start_command": "echo bye; exit 7"}),
            DeployState::Failed,
            "exited (exit code 7) before the release was healthy",
        ),
        // The service's env reaches the build too, and npm is a node program: `npm ci` is
        // what fails to preload the missing file, before the start command ever runs.
        (
            serde_json::json!({"start_command": "node server.js",
                "health_check": {"http": {"path": "/"}, "retries": 2},
                "env": {"NODE_OPTIONS": "--require ./nope.js"}}),
            DeployState::Failed,
            "build step `npm ci` exited with code 1",
        ),
        (
            serde_json::json!({"env": {}, "start_command": null,
                "build_command": "sleep 30", "build_timeout_secs": 1}),
            DeployState::TimedOut,
            "did not finish within",
        ),
    ];
    for (patch, state, reason) in cases {
        set(patch.clone()).await;
        let dep = d.deploy(&svc).await;
        let done = d.settled(&dep).await;
        assert_eq!(done.state, state, "{patch}: {:?}", done.reason);
        let why = done.reason.clone().unwrap_or_default();
        assert!(why.contains(reason), "{patch}: reason {why:?}");
        assert_eq!(
            d.get("web.test").await.unwrap(),
            (200, "v1".into()),
            "v1 still serves after {patch}"
        );
    }
    let svc_now = d.gw.base.get_service(&d.gw.owner, &svc).await.unwrap();
    assert_eq!(svc_now.live_deployment_id.as_deref(), Some(first.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_build_kills_the_whole_process_tree() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(&files(&node_app("v1")), "v1");
    let marker = tempfile::tempdir().unwrap();
    // The build runs as the service's own user (when the test runs as root): it may write here.
    std::fs::set_permissions(
        marker.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let pidfile = marker.path().join("child.pid");
    let build = format!("sh -c 'echo $$ > {}; sleep 300' & wait", pidfile.display());
    let svc = d
        .service(
            "web",
            git_source(&repo),
            serde_json::json!({"build_command": build}),
        )
        .await;
    let dep = d.deploy(&svc).await;
    // The shell creates the file before it writes the pid into it: wait for a whole line.
    let start = Instant::now();
    let pid: i32 = loop {
        let written = std::fs::read_to_string(&pidfile).unwrap_or_default();
        if written.ends_with('\n') {
            break written.trim().parse().unwrap();
        }
        assert!(start.elapsed() < DEPLOY_PATIENCE, "the build never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let cancelled =
        d.gw.base
            .cancel_deployment(&d.gw.owner, &dep)
            .await
            .unwrap();
    assert_eq!(cancelled.state, DeployState::Cancelled);
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the build's grandchild {pid} survived the cancel"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_toolchain_fails_at_once_naming_it_and_the_instance() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(
        &[("go.mod", "module x\n"), ("main.go", "package main\n")],
        "go",
    );
    let svc = d
        .service("gosvc", git_source(&repo), serde_json::json!({}))
        .await;
    let dep = d.deploy(&svc).await;
    let done = d.settled(&dep).await;
    let go_present = Command::new("sh")
        .args(["-c", "command -v go"])
        .status()
        .unwrap()
        .success();
    if go_present {
        // This machine has Go: the message is then about the build, not the toolchain.
        return;
    }
    assert_eq!(done.state, DeployState::Failed);
    assert_eq!(
        done.reason.as_deref(),
        Some("go not found on instance web-1: install Go 1.21+ or choose the docker runtime"),
    );
}
