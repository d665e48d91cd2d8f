//! `dployrd run`'s settings: where the ingress listens (HTTP, and HTTPS when asked), the
//! domain services get their default host under, what to do with services on exit, and how
//! often metrics are sampled, and the other Base replicas' gateways.

use std::net::SocketAddr;

/// Where the ingress listens and which domain services get their default host under.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The plain-HTTP listener (`--http-listen`, alias `--ingress-listen`).
    pub ingress_listen: SocketAddr,
    /// The HTTPS listener (`--https-listen`); none by default.
    pub https_listen: Option<SocketAddr>,
    pub ingress_domain: String,
    /// Stop every service when `run` returns. dployrd itself leaves them running (the next
    /// dployrd takes them over); tests that run many agents in one process do not.
    pub stop_services_on_exit: bool,
    /// The Docker engine for docker services.
    pub docker: crate::docker::DockerHost,
    /// Serve browser consoles (`--no-console` turns them off whatever Base allows).
    pub console_enabled: bool,
    /// Certificates by ACME for services' domains (`--acme-directory`/`--acme-email`).
    pub acme: Option<crate::acme::AcmeOptions>,
    /// How often metrics are sampled and sent (`--metrics-interval`; 10 s).
    pub metrics_interval: std::time::Duration,
    /// More gateway URLs (`--gateway`): other Base replicas, dialed in turn after the enrolled
    /// one ([`super::gateways`]).
    pub gateways: Vec<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            ingress_listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            https_listen: None,
            ingress_domain: "localhost".into(),
            stop_services_on_exit: false,
            docker: crate::docker::DockerHost::default(),
            console_enabled: true,
            acme: None,
            metrics_interval: crate::metrics::DEFAULT_INTERVAL,
            gateways: Vec::new(),
        }
    }
}
