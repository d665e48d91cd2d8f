//! [`ServerState`]: built once at start, cloned into every handler.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::extract::FromRef;
use control::{Base, BaseConfig, GatewayInfo};
use leptos::config::{Env, LeptosOptions};

use crate::Config;

#[derive(Clone)]
pub struct ServerState {
    pub base: Base,
    pub leptos: LeptosOptions,
    /// Whose `X-Forwarded-For` hops count ([`crate::proxy`]).
    pub proxies: std::sync::Arc<crate::proxy::TrustedProxies>,
    /// `Origin` value state-changing requests must carry.
    pub origin: std::sync::Arc<str>,
    /// The dployrd binary served to installers.
    pub agent_bin: Option<std::path::PathBuf>,
    /// The `dployr` CLI served to CI jobs and people.
    pub cli_bin: Option<std::path::PathBuf>,
    /// The agent gateway's key and certificate.
    pub gateway_identity: control::gateway::tls::Identity,
    /// Base's own request counts, for `GET /metrics`.
    pub http_counts: std::sync::Arc<crate::http_counts::HttpCounts>,
    /// On SQLite: the lock that keeps a second Base off the same database file.
    pub sqlite_lock: Option<std::sync::Arc<std::fs::File>>,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(s: &ServerState) -> LeptosOptions {
        s.leptos.clone()
    }
}

impl ServerState {
    /// `peer_addr`: where the other replicas reach this one's peer link, if it serves one.
    pub async fn open(
        config: &Config,
        addr: SocketAddr,
        gateway_addr: SocketAddr,
        peer_addr: Option<String>,
    ) -> anyhow::Result<ServerState> {
        // Before the database is touched: a second Base on the same SQLite file stops here.
        let sqlite_lock = match config.sqlite_file() {
            Some(db) => Some(std::sync::Arc::new(crate::single_replica::lock(&db)?)),
            None => None,
        };
        let store = config.open_store().await?;
        let public_url = match &config.public_url {
            Some(u) => u.clone(),
            None => format!("http://{addr}")
                .parse()
                .context("public URL from listen address")?,
        };
        let from = config.smtp_from.clone().unwrap_or_else(|| {
            let host = public_url.host_str().unwrap_or("localhost");
            format!("dployr <dployr@{host}>")
        });
        let identity = control::gateway::tls::Identity::load_or_create(&config.data_dir)
            .context("creating the gateway key and certificate")?;
        let agent_bin = config.agent_bin();
        let agent_sha256 = match agent_bin.as_deref().filter(|p| p.exists()) {
            Some(p) => Some(
                crate::config::sha256_file(p)
                    .with_context(|| format!("hashing the dployrd binary {}", p.display()))?,
            ),
            None => None,
        };
        let mut base_config = BaseConfig::new(public_url);
        base_config.open_signup = config.open_signup;
        base_config.console_idle_secs = config.console_idle_secs;
        base_config.upload_max_bytes = config.upload_max_bytes;
        base_config.limits.drain_secs = config.drain_secs;
        base_config.dns_server = config.dns_server;
        base_config.oidc_http_loopback = config.oidc_http_loopback;
        base_config.notify.offline_grace = Duration::from_secs(config.offline_grace_secs);
        base_config.notify.retry_base = Duration::from_millis(config.notify_retry_ms);
        if let Some(id) = &config.replica_id {
            base_config.replica.id = id.clone();
        }
        base_config.replica.lease = Duration::from_secs(config.replica_lease_secs.max(3));
        base_config.replica.peer_addr = peer_addr;
        base_config.gateway = GatewayInfo {
            url: config
                .gateway_url
                .clone()
                .unwrap_or_else(|| format!("wss://{gateway_addr}")),
            pin: identity.pin(),
            agent_sha256,
        };
        let keyring = control::secrets::keyfiles::load(&config.data_dir, &config.key_settings())
            .context("loading the master key for secrets")?;
        let mut base = Base::new(store, base_config).with_keyring(keyring);
        if let Some(url) = &config.smtp_url {
            let mailer = control::mail::Mailer::new(url, &from)
                .map_err(anyhow::Error::msg)
                .context("DPLOYR_SMTP_URL")?;
            base = base.with_mailer(mailer);
        }
        let origin = base.config().origin().into();
        let leptos = LeptosOptions::builder()
            .output_name("frontend")
            .site_pkg_dir("pkg")
            .env(Env::PROD)
            .site_addr(addr)
            .build();
        Ok(ServerState {
            base,
            leptos,
            proxies: std::sync::Arc::new(crate::proxy::TrustedProxies::new(
                &config.trusted_proxies,
                config.trust_proxy,
            )),
            origin,
            gateway_identity: identity,
            agent_bin,
            cli_bin: config.cli_bin(),
            http_counts: Default::default(),
            sqlite_lock,
        })
    }
}
