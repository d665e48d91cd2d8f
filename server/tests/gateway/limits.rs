//! A service's memory limit through a real Base, gateway and dployrd: set in the service's
//! `resources`, enforced by dployrd's cgroup, and the kill visible where people look: the
//! service's events (`service.crashed` with the reason) and its log.
//!
//! Where this machine gives no writable memory cgroup (not root), the test says why and returns.

use std::path::{Path, PathBuf};
use std::time::Duration;

use proto::api::{EventFilter, ServiceStatus};

use crate::deploy::{Deployer, Repo, git_source};
use crate::eventually;

/// Whether this process can make a memory cgroup under its own one.
fn cgroups_writable() -> bool {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
    let memory_v1 = own
        .lines()
        .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_owned()));
    let dir: PathBuf = match (v2, memory_v1) {
        (true, _) => {
            let path = own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .unwrap_or("/");
            Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'))
        }
        (false, Some(path)) => {
            Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/'))
        }
        (false, None) => return false,
    };
    let probe = dir.join(format!("dployr-test-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    let _ = std::fs::remove_dir(&probe);
    if !ok {
        eprintln!("SKIPPED: no writable memory cgroup under {}", dir.display());
    }
    ok
}

/// A Python app answering `ok`, that takes 200 MB on `GET /eat`.
const APP: &str = "import http.server, os\n\
class H(http.server.BaseHTTPRequestHandler):\n\
\x20   def do_GET(self):\n\
\x20       if self.path == '/eat':\n\
\x20           self.server.eaten = b'x' * (200 * 1024 * 1024)\n\
\x20       self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n\
http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limit_kill_shows_in_the_services_events_and_log() {
    if !cgroups_writable() {
        return;
    }
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(&[("requirements.txt", ""), ("app.py", APP)], "app");
    let svc = d
        .service(
            "eater",
            git_source(&repo),
            serde_json::json!({
                "start_command": "python3 app.py",
                "restart": "never",
                "resources": {"memory_mb": 64},
            }),
        )
        .await;
    d.live(&d.deploy(&svc).await).await;
    // The answer never comes: the process is killed on the way.
    let _ = d
        .client
        .get(format!("http://{}/eat", d.ingress()))
        .header("Host", "eater.test")
        .send()
        .await;

    let said = "killed: out of memory (limit 64 MB)";
    eventually(
        Duration::from_secs(30),
        "a service.crashed event",
        || async {
            let page =
                d.gw.base
                    .event_page(&d.gw.owner, &d.gw.cluster, &EventFilter::target(&svc), 100)
                    .await
                    .unwrap();
            page.events
                .iter()
                .any(|e| e.action == "service.crashed" && e.details["reason"] == said)
        },
    )
    .await;
    let service = d.gw.base.get_service(&d.gw.owner, &svc).await.unwrap();
    assert_eq!(service.status, ServiceStatus::Crashed);
    eventually(Duration::from_secs(10), "the kill in the log", || async {
        d.log_text(&svc).await.contains(said)
    })
    .await;
}
