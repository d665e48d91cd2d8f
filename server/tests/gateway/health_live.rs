//! No "green but broken" deploys: a failing `Procfile` `release:` step and an app that answers
//! 500 both fail their deploy while v1 keeps serving; an app that stops answering after it went
//! live is marked unhealthy, restarted and recovers, with events for each; a worker runs with no
//! port and no route. A real Base, gateway and dployrd, real git repositories and real `node`.

use std::time::Duration;

use proto::api::EventFilter;
use proto::api::ServiceStatus;
use proto::deploy::DeployState;

use crate::deploy::{Deployer, Repo, git_source};
use crate::{assert_lines_in, eventually};

/// A server answering `body` on every path.
fn server(body: &str) -> String {
    format!(
        "require('http').createServer((q, s) => s.end({body:?})).listen(process.env.PORT, '127.0.0.1');\n"
    )
}

const PACKAGE: &str = r#"{"name": "app", "version": "1.0.0"}"#;

/// The service's events, oldest first, as `action` strings.
async fn actions(d: &Deployer, service: &str) -> Vec<String> {
    let filter = EventFilter::target(service);
    let page =
        d.gw.base
            .event_page(&d.gw.owner, &d.gw.cluster, &filter, 100)
            .await
            .unwrap();
    page.events.into_iter().rev().map(|e| e.action).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_step_runs_before_the_switch_and_a_failing_one_keeps_v1_serving() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    // v1's release step leaves a file its server reads: it ran before the start.
    let v1 = "const fs = require('fs');\n\
        require('http').createServer((q, s) => s.end('v1 ' + fs.readFileSync('released', 'utf8')))\
        .listen(process.env.PORT, '127.0.0.1');\n";
    repo.commit(
        &[
            ("package.json", PACKAGE),
            ("server.js", v1),
            (
                "Procfile",
                "web: node server.js\nrelease: echo migrated > released\n",
            ),
        ],
        "v1",
    );
    let svc = d
        .service("rel", git_source(&repo), serde_json::json!({}))
        .await;
    let first = d.live(&d.deploy(&svc).await).await;
    assert_eq!(
        d.get("rel.test").await.unwrap(),
        (200, "v1 migrated\n".into())
    );
    assert!(
        first
            .plan
            .iter()
            .any(|l| l == "start: node server.js  # Procfile web:"),
        "the deployment carries its plan: {:?}",
        first.plan
    );
    let logs = d.log_text(&svc).await;
    assert_lines_in(
        &logs,
        &[
            "build plan:",
            "  runtime: node",
            "  release: echo migrated > released  # Procfile release:",
            "  start: node server.js  # Procfile web:",
        ],
    );

    repo.commit(
        &[
            ("server.js", &server("v2")),
            (
                "Procfile",
                "web: node server.js\nrelease: echo migrating; exit 3\n",
            ),
        ],
        "v2 with a failing migration",
    );
    let failed = d.settled(&d.deploy(&svc).await).await;
    assert_eq!(failed.state, DeployState::Failed);
    let reason = failed.reason.unwrap_or_default();
    assert_eq!(
        reason,
        "the release step `echo migrating; exit 3` exited with code 3; the live release keeps \
         serving"
    );
    assert_eq!(
        d.get("rel.test").await.unwrap(),
        (200, "v1 migrated\n".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_answering_500_never_goes_live_and_v1_keeps_serving() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(
        &[("package.json", PACKAGE), ("server.js", &server("v1"))],
        "v1",
    );
    let svc = d
        .service(
            "five",
            git_source(&repo),
            // Few retries: the default (30 at 1 s) would make this test wait half a minute.
            serde_json::json!({"health_check": {"http": {"path": "/"}, "retries": 3}}),
        )
        .await;
    d.live(&d.deploy(&svc).await).await;
    let broken = "require('http').createServer((q, s) => { s.statusCode = 500; s.end('boom') })\
        .listen(process.env.PORT, '127.0.0.1');\n";
    repo.commit(&[("server.js", broken)], "v2 answers 500");
    let failed = d.settled(&d.deploy(&svc).await).await;
    assert_eq!(failed.state, DeployState::Failed);
    let reason = failed.reason.unwrap_or_default();
    assert!(
        reason.starts_with("health check failed: not healthy after") && reason.contains(" 500 "),
        "{reason}"
    );
    assert_eq!(d.get("five.test").await.unwrap(), (200, "v1".into()));

    // The default check of a new service is the same HTTP check, not a TCP connect.
    let other = d
        .service("dflt", git_source(&repo), serde_json::json!({}))
        .await;
    let svc_view = d.gw.base.get_service(&d.gw.owner, &other).await.unwrap();
    assert_eq!(
        svc_view.spec.health_check.probe,
        proto::service::Probe::Http { path: "/".into() }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_stops_answering_30s_after_going_live_is_marked_unhealthy_and_restarted() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    // Answers for 30 s, then closes its listener but stays alive: only a health check sees it.
    let hangs = "const server = require('http').createServer((q, s) => s.end('ok'))\
        .listen(process.env.PORT, '127.0.0.1');\n\
        setTimeout(() => { console.log('closing the listener'); server.close(); }, 30000);\n\
        setInterval(() => {}, 1000);\n";
    repo.commit(&[("package.json", PACKAGE), ("server.js", hangs)], "v1");
    let svc = d
        .service("flaky", git_source(&repo), serde_json::json!({}))
        .await;
    d.live(&d.deploy(&svc).await).await;
    assert_eq!(d.get("flaky.test").await.unwrap(), (200, "ok".into()));

    let status = || async {
        d.gw.base
            .get_service(&d.gw.owner, &svc)
            .await
            .unwrap()
            .status
    };
    eventually(
        Duration::from_secs(70),
        "the service marked unhealthy",
        || async { status().await == ServiceStatus::Unhealthy },
    )
    .await;
    // Restarted by the default policy: the new process answers and the check passes again.
    eventually(
        Duration::from_secs(30),
        "the service running again",
        || async { status().await == ServiceStatus::Running },
    )
    .await;
    assert_eq!(d.get("flaky.test").await.unwrap(), (200, "ok".into()));
    let seen = actions(&d, &svc).await;
    let unhealthy = seen.iter().position(|a| a == "service.unhealthy");
    let recovered = seen.iter().position(|a| a == "service.recovered");
    assert!(
        matches!((unhealthy, recovered), (Some(u), Some(r)) if u < r),
        "events in order: {seen:?}"
    );
    let logs = d.log_text(&svc).await;
    assert!(
        logs.contains(
            "[dployrd] unhealthy: the health check failed 3 times in a row: connecting to 127.0.0.1:"
        ),
        "{logs}"
    );
    assert!(logs.contains("[dployrd] restarting it"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_without_a_port_or_a_route() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    let worker = "let n = 0;\nsetInterval(() => console.log('job ' + n++), 200);\n";
    repo.commit(
        &[
            ("package.json", PACKAGE),
            ("worker.js", worker),
            ("Procfile", "worker: node worker.js\n"),
        ],
        "a worker",
    );
    let svc = d
        .service("jobs", git_source(&repo), serde_json::json!({}))
        .await;
    let live = d.live(&d.deploy(&svc).await).await;
    assert!(
        live.plan.iter().any(|l| l == "kind: worker"),
        "{:?}",
        live.plan
    );
    eventually(Duration::from_secs(10), "the worker's output", || async {
        d.log_text(&svc).await.contains("job 3\n")
    })
    .await;
    let view = d.gw.base.get_service(&d.gw.owner, &svc).await.unwrap();
    assert_eq!(view.status, ServiceStatus::Running);
    let (status, _) = d.get("jobs.test").await.unwrap();
    assert_eq!(status, 404, "no route to a worker");
}
