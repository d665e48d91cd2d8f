//! The [`Deployer`]: a Base and a real dployrd with an ingress in this process, git repositories
//! to deploy from, and the waits a deploy test needs. Shared by the deploy tests, the Docker,
//! Python and monorepo tests and the deploy benches.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use proto::api::{CreateDeploymentRequest, CreateServiceRequest, Deployment};
use proto::deploy::DeployState;
use proto::service::{GitSource, Source};

use crate::RunningAgent;
use crate::commands::Gateway;
pub use testkit::Repo;

/// Builds and health checks on a loaded CI machine stay well under this.
pub const DEPLOY_PATIENCE: Duration = Duration::from_secs(120);

/// A Node app using only `http`: answers `version` on every path.
pub fn node_app(version: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "package.json",
            r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#.into(),
        ),
        (
            "package-lock.json",
            r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0"}}}"#.into(),
        ),
        (
            "server.js",
            format!(
                "require('http').createServer((q, s) => s.end('{version}')).listen(process.env.PORT, '127.0.0.1');\n"
            ),
        ),
    ]
}

pub fn files<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(n, b)| (*n, b.as_str())).collect()
}

pub struct Deployer {
    pub gw: Gateway,
    pub agent: RunningAgent,
    pub instance: String,
    pub client: reqwest::Client,
}

impl Deployer {
    pub async fn start() -> Deployer {
        Self::start_with(agent::docker::DockerHost::default()).await
    }

    /// With docker services going to the engine at `docker`.
    pub async fn start_with(docker: agent::docker::DockerHost) -> Deployer {
        let gw = Gateway::start().await;
        let invite = gw.invite("web-1").await;
        let agent = RunningAgent::join_and_run_with(&invite, docker).await;
        gw.wait_online(&invite.instance_id, true).await;
        Deployer {
            gw,
            agent,
            instance: invite.instance_id,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    pub fn ingress(&self) -> String {
        let path: PathBuf = self.agent.data.path().join("ingress.addr");
        std::fs::read_to_string(path).expect("dployrd wrote its ingress address")
    }

    pub async fn service(&self, name: &str, source: Source, extra: serde_json::Value) -> String {
        let mut req = serde_json::json!({
            "name": name,
            "instance_id": self.instance,
            "source": source,
        });
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let req: CreateServiceRequest = serde_json::from_value(req).unwrap();
        self.gw
            .base
            .create_service(&self.gw.owner, &self.gw.cluster, req)
            .await
            .unwrap()
            .id
    }

    /// Creates the TXT record of the service's pending `domain` at the test's DNS server and
    /// verifies it, which must succeed.
    pub async fn verify_domain(&self, service: &str, domain: &str) {
        let (base, owner) = (&self.gw.base, &self.gw.owner);
        let listed = base.list_domains(owner, service).await.unwrap().domains;
        let d = listed
            .iter()
            .find(|d| d.name == domain)
            .expect("the domain was added");
        let txt = d.records.iter().find(|r| r.kind == "TXT").unwrap();
        self.gw.dns.set_txt(&txt.name, &txt.value);
        let done = base.verify_domain(owner, service, domain).await.unwrap();
        assert_eq!(done.status, proto::api::DomainStatus::Verified, "{done:?}");
    }

    pub async fn deploy(&self, service: &str) -> String {
        self.gw
            .base
            .create_deployment(
                &self.gw.owner,
                service,
                CreateDeploymentRequest::default(),
                None,
            )
            .await
            .and_then(control::idempotency::Queued::into_deployment)
            .unwrap()
            .id
    }

    /// Waits until the deployment has ended (anything but in progress) and returns it.
    pub async fn settled(&self, deployment: &str) -> Deployment {
        let start = Instant::now();
        loop {
            let d = self
                .gw
                .base
                .get_deployment(&self.gw.owner, deployment)
                .await
                .unwrap();
            if !d.state.in_progress() {
                return d;
            }
            assert!(
                start.elapsed() < DEPLOY_PATIENCE,
                "{deployment} still {} after {DEPLOY_PATIENCE:?}",
                d.state
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the deployment has ended and asserts it went live.
    pub async fn live(&self, deployment: &str) -> Deployment {
        let done = self.settled(deployment).await;
        assert_eq!(
            done.state,
            DeployState::Live,
            "{:?} {:?}",
            done.reason,
            done.transitions
        );
        done
    }

    /// The service's stored log lines (the newest 1,000).
    pub async fn log_lines(&self, service: &str) -> Vec<String> {
        let (lines, _) = self
            .gw
            .base
            .read_logs(&self.gw.owner, service, None, 0, 1_000)
            .await
            .unwrap();
        lines.into_iter().map(|l| l.line).collect()
    }

    /// [`Deployer::log_lines`] as one text, each line ending in `\n`.
    pub async fn log_text(&self, service: &str) -> String {
        self.log_lines(service)
            .await
            .iter()
            .map(|l| format!("{l}\n"))
            .collect()
    }

    pub async fn get(&self, host: &str) -> Result<(u16, String), reqwest::Error> {
        let r = self
            .client
            .get(format!("http://{}/", self.ingress()))
            .header("Host", host)
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.text().await?))
    }
}

/// The states of a deployment that went the whole way.
pub const EVERY_STEP: [DeployState; 6] = [
    DeployState::Queued,
    DeployState::Fetching,
    DeployState::Building,
    DeployState::Starting,
    DeployState::HealthChecking,
    DeployState::Live,
];

pub fn steps(d: &Deployment) -> Vec<DeployState> {
    d.transitions.iter().map(|t| t.state).collect()
}

pub fn git_source(repo: &Repo) -> Source {
    Source::Git(GitSource {
        url: repo.url(),
        branch: "main".into(),
    })
}
