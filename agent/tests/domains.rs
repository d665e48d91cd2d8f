//! A service's own domains through the real engine: a static site deployed for real, then
//! Base's `Domains` command reroutes it while it is live (its HSTS setting too), drops the old
//! hosts' certificates, tells the certificate keeper, outlives a dployrd restart and wins over
//! the next deploy order's `spec.domains`. Uploaded certificates are checked, stored, reported
//! and listed in the agent's state.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::engine::{Engine, EngineConfig};
use agent::ingress::{CertKeeper, Certificates, Routes};
use proto::deploy::DeployState;
use proto::service::{GitSource, HealthCheck, RestartPolicy, Runtime, ServiceSpec, Source};
use proto::wire::{
    AgentMsg, CertState, Command, CommandErrorKind, DeployOrder, Outcome, Secrets, ServiceDomains,
    UploadedCert,
};
use testkit::git;
use tokio::sync::mpsc;

/// Records what the engine asks of it (the ACME client's place).
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl CertKeeper for Recorder {
    fn ensure(&self, domain: &str) {
        self.0.lock().unwrap().push(format!("ensure {domain}"));
    }
    fn forget(&self, domain: &str) {
        self.0.lock().unwrap().push(format!("forget {domain}"));
    }
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn static_site() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("index.html"), "<p>shop</p>").unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "site"]);
    repo
}

struct Agent {
    engine: Engine,
    routes: Routes,
    certs: Certificates,
    reports: mpsc::UnboundedReceiver<AgentMsg>,
    _shipped: mpsc::Receiver<proto::wire::LogRecord>,
}

/// A dployrd's engine and store over `data`, as `dployrd run` sets them up.
fn agent(data: &std::path::Path) -> Agent {
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let (ship_tx, shipped) = mpsc::channel(10_000);
    let routes = Routes::new();
    let engine = Engine::new(
        EngineConfig {
            services_dir: data.join("services"),
            git_cache: data.join("git-cache"),
            domain: "test".into(),
            docker: Default::default(),
        },
        routes.clone(),
        reports_tx,
        ship_tx,
    );
    let certs = Certificates::open(data.join("certs")).unwrap();
    engine.set_certificates(certs.clone());
    Agent {
        engine,
        routes,
        certs,
        reports,
        _shipped: shipped,
    }
}

fn order(deployment_id: &str, repo: &std::path::Path) -> DeployOrder {
    DeployOrder {
        deployment_id: deployment_id.into(),
        service_id: "svc_1".into(),
        instance_name: "web-1".into(),
        spec: ServiceSpec {
            name: "shop".into(),
            source: Source::Git(GitSource {
                url: format!("file://{}", repo.display()),
                branch: "main".into(),
            }),
            runtime: Some(Runtime::Static),
            build_command: None,
            start_command: None,
            port: None,
            env: Default::default(),
            health_check: HealthCheck::default(),
            restart: RestartPolicy::Never,
            domains: vec!["old.example.test".into()],
            build_timeout_secs: Some(60),
            root_dir: None,
            kind: None,
            runtime_version: None,
            resources: Default::default(),
        },
        git_ref: None,
        build_timeout_secs: 60,
        drain_secs: 0,
        secrets: Secrets::default(),
    }
}

async fn deployed(agent: &mut Agent, order: DeployOrder) {
    agent.engine.handle(Command::Deploy(Box::new(order))).await;
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(msg) = agent.reports.recv().await {
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
    assert_eq!(ended.state, DeployState::Live, "{ended:?}");
}

fn self_signed(name: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn shop_domains() -> Command {
    Command::Domains(ServiceDomains {
        service_id: "svc_1".into(),
        hosts: vec!["Shop.Example.test".into(), "www.example.test".into()],
        hsts: true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_reroute_a_live_service_and_survive_a_restart_and_the_next_deploy() {
    let repo = static_site();
    let data = tempfile::tempdir().unwrap();
    let mut first = agent(data.path());
    let keeper = Arc::new(Recorder::default());
    first.engine.set_cert_keeper(keeper.clone());
    deployed(&mut first, order("dep_1", repo.path())).await;
    let upstream = first.routes.upstream_for("shop.test").unwrap();
    assert_eq!(
        first.routes.upstream_for("old.example.test"),
        Some(upstream)
    );

    // A certificate uploaded for the old domain: stored, reported, listed in the state.
    let (chain, key) = self_signed("old.example.test");
    let upload = UploadedCert {
        domain: "Old.Example.test".into(),
        chain_pem: chain,
        key_pem: key,
    };
    let outcome = first
        .engine
        .handle(Command::InstallCertificate(upload))
        .await;
    assert_eq!(outcome, Outcome::Ok);
    // Reports are queued in order; the upload's is the first certificate report.
    let report = loop {
        match first.reports.try_recv() {
            Ok(AgentMsg::Certificate(r)) => break r,
            Ok(_) => continue,
            Err(e) => panic!("no certificate report: {e}"),
        }
    };
    assert_eq!(report.domain, "old.example.test");
    assert!(
        matches!(report.state, CertState::Issued { .. }),
        "{report:?}"
    );
    let listed: Vec<String> = first
        .engine
        .state()
        .certificates
        .into_iter()
        .map(|c| c.domain)
        .collect();
    assert_eq!(listed, ["old.example.test"]);

    // The new domains take over at once, on the same release, with HSTS.
    assert_eq!(first.engine.handle(shop_domains()).await, Outcome::Ok);
    for host in ["shop.test", "shop.example.test", "www.example.test"] {
        let target = first.routes.target_for(host).unwrap();
        assert_eq!((target.upstream, target.hsts), (upstream, true), "{host}");
    }
    assert_eq!(first.routes.upstream_for("old.example.test"), None);
    assert_eq!(
        first.certs.info("old.example.test"),
        None,
        "a dropped domain's certificate stays"
    );
    assert_eq!(
        keeper.take(),
        [
            "forget old.example.test",
            "ensure shop.example.test",
            "ensure www.example.test"
        ]
    );
    let saved = data.path().join("services/svc_1/domains.json");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // dployrd restarts: the domains come back with the release, and the keeper hears of them.
    first.engine.stop_all().await;
    drop(first);
    let mut second = agent(data.path());
    let keeper = Arc::new(Recorder::default());
    second.engine.set_cert_keeper(keeper.clone());
    assert_eq!(
        keeper.take(),
        ["ensure shop.example.test", "ensure www.example.test"]
    );
    second.engine.restore().await;
    let upstream = second.routes.upstream_for("shop.test").expect("restored");
    let target = second.routes.target_for("www.example.test").unwrap();
    assert_eq!((target.upstream, target.hsts), (upstream, true));
    assert_eq!(second.routes.upstream_for("old.example.test"), None);

    // The next deploy's order still names the old domain: Base's last word wins.
    deployed(&mut second, order("dep_2", repo.path())).await;
    let upstream = second.routes.upstream_for("shop.test").unwrap();
    assert_eq!(
        second.routes.upstream_for("shop.example.test"),
        Some(upstream)
    );
    assert_eq!(second.routes.upstream_for("old.example.test"), None);
    second.engine.stop_all().await;
}

#[tokio::test]
async fn bad_domains_and_bad_certificates_are_refused_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let agent = agent(data.path());
    let bad_host = Command::Domains(ServiceDomains {
        service_id: "svc_1".into(),
        hosts: vec!["ok.example.test".into(), "not a host".into()],
        hsts: false,
    });
    let Outcome::Err { kind, message } = agent.engine.handle(bad_host).await else {
        panic!("an invalid host was taken");
    };
    assert_eq!(kind, CommandErrorKind::Invalid);
    assert!(message.contains("not a host"), "{message}");
    assert!(!data.path().join("services/svc_1/domains.json").exists());

    let (chain, key) = self_signed("other.example.test");
    let wrong_name = UploadedCert {
        domain: "shop.example.test".into(),
        chain_pem: chain,
        key_pem: key,
    };
    let Outcome::Err { kind, message } = agent
        .engine
        .handle(Command::InstallCertificate(wrong_name))
        .await
    else {
        panic!("a certificate for another name was taken");
    };
    assert_eq!(kind, CommandErrorKind::Invalid);
    assert!(message.contains("other.example.test"), "{message}");
    assert!(!message.contains("PRIVATE KEY"), "{message}");
    assert!(agent.certs.domains().is_empty());
}
