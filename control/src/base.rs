//! [`Base`]: the handle every entry point holds. Cheap to clone; built once at start from a
//! [`Store`] and a [`BaseConfig`] (with its [`Limits`]), reading the time from a [`Clock`].

use std::sync::Arc;
use std::time::Duration;

use crate::Store;
use crate::auth::limiter::LoginLimiter;
use crate::auth::password::Hasher;
use crate::clock::Clock;
use crate::gateway::registry::Registry;
use crate::secrets::Keyring;

#[derive(Debug, Clone)]
pub struct BaseConfig {
    /// Where people reach Base; its origin is what `Origin` headers must match.
    pub public_url: url::Url,
    /// Anyone may sign up (not only the first person).
    pub open_signup: bool,
    pub session_ttl: Duration,
    pub login_window: Duration,
    pub login_failures_per_account: usize,
    pub login_failures_per_ip: usize,
    /// Where agents connect, as advertised in install commands.
    pub gateway: GatewayInfo,
    /// A console nobody typed into for this long is closed.
    pub console_idle_secs: u32,
    /// The largest file upload through the file explorer.
    pub upload_max_bytes: u64,
    /// How long Base waits for agents, and how long deployments may take.
    pub limits: Limits,
    /// The one DNS server domain verification asks (`DPLOYR_DNS_SERVER`); `None`: the system's
    /// resolvers (`/etc/resolv.conf`).
    pub dns_server: Option<std::net::SocketAddr>,
    /// The timings of alerts: offline grace, retries ([`crate::notify::NotifyLimits`]).
    pub notify: crate::notify::NotifyLimits,
    /// OIDC issuers may be `http://127.0.0.1` (tests only: `DPLOYR_OIDC_HTTP_LOOPBACK`).
    pub oidc_http_loopback: bool,
    /// This Base among the replicas on its database ([`crate::replicas`]).
    pub replica: crate::replicas::ReplicaConfig,
}

/// Every time limit of the deploy path, in one place so a test server can shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// How long Base waits for an agent to acknowledge a command (a deploy order, a cancel).
    pub command_timeout: Duration,
    /// How long a rollback, restart, stop or start may take: the agent answers only after
    /// starting a release and health-checking it.
    pub action_timeout: Duration,
    /// A build's limit when the service sets none (`build_timeout_secs` in its settings).
    pub build_timeout_secs: u32,
    /// How long the previous release keeps serving after a switch (`DeployOrder.drain_secs`).
    pub drain_secs: u32,
    /// A deployment in progress whose instance has been offline this long ends `timed_out`.
    pub offline_limit: Duration,
    /// Fetching, starting and health checking, on top of the build limit, before a deployment
    /// with no result ends `timed_out`.
    pub slack: Duration,
    /// Base sends a heartbeat this often; an agent silent for three periods is gone.
    pub heartbeat: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            command_timeout: Duration::from_secs(10),
            action_timeout: Duration::from_secs(120),
            build_timeout_secs: 15 * 60,
            drain_secs: 10,
            offline_limit: Duration::from_secs(5 * 60),
            slack: Duration::from_secs(10 * 60),
            heartbeat: Duration::from_secs(5),
        }
    }
}

/// The agent gateway's address and the SHA-256 pin of its certificate (hex).
#[derive(Debug, Clone)]
pub struct GatewayInfo {
    pub url: String,
    pub pin: String,
    /// The SHA-256 (hex) of the dployrd binary Base serves at `/download/dployrd`: install
    /// commands carry it (`--sha256`) and `install.sh` refuses a download that differs.
    pub agent_sha256: Option<String>,
}

impl BaseConfig {
    pub fn new(public_url: url::Url) -> BaseConfig {
        BaseConfig {
            public_url,
            open_signup: false,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            login_window: Duration::from_secs(60),
            login_failures_per_account: 5,
            login_failures_per_ip: 20,
            gateway: GatewayInfo {
                url: "wss://127.0.0.1:8443".into(),
                pin: String::new(),
                agent_sha256: None,
            },
            console_idle_secs: 30 * 60,
            upload_max_bytes: 1 << 30,
            limits: Limits::default(),
            dns_server: None,
            notify: crate::notify::NotifyLimits::default(),
            oidc_http_loopback: false,
            replica: crate::replicas::ReplicaConfig::default(),
        }
    }

    /// Base is served over TLS (its public URL is https, whether Base or a proxy in front of it
    /// terminates TLS): session cookies get `Secure` and the `__Host-` prefix.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

#[derive(Debug, Clone)]
pub struct Base {
    pub(crate) store: Store,
    pub(crate) config: Arc<BaseConfig>,
    pub(crate) hasher: Hasher,
    pub(crate) limiter: Arc<LoginLimiter>,
    /// Bounds the audit events of rejected webhook deliveries (per service and per IP).
    pub(crate) hook_rejections: Arc<LoginLimiter>,
    pub(crate) registry: Arc<Registry>,
    /// Bumped, per cluster, on every change to services and deployments (live views wait on it).
    pub(crate) activity: Arc<crate::changes::ClusterChanges>,
    /// Bumped after every change that can take access away; open streams re-authorize on it
    /// ([`crate::revocation`]).
    pub(crate) access: Arc<crate::changes::Changes>,
    /// Numbering and live relay of service log lines.
    pub(crate) logs: Arc<crate::logs::LogHub>,
    /// Seals and opens secrets. A random key unless [`Base::with_keyring`] gives the real one.
    pub(crate) keyring: Arc<Keyring>,
    /// Sends invitation links when SMTP is configured ([`Base::with_mailer`]).
    pub(crate) mailer: Option<Arc<crate::mail::Mailer>>,
    /// The time deployments are created, moved and timed out by ([`Base::with_clock`]).
    pub(crate) clock: Clock,
    /// Where each instance's agent last connected from: the A/AAAA records of its domains.
    pub(crate) instance_addrs:
        Arc<std::sync::Mutex<std::collections::HashMap<String, std::net::IpAddr>>>,
    /// What Base last told each service's instance about its domains, and the answer.
    /// The notification worker's HTTP client and what the offline watch remembers.
    pub(crate) notify: Arc<crate::notify::Hub>,
    pub(crate) domains_sent: Arc<
        std::sync::Mutex<std::collections::HashMap<String, crate::domains::routing::DomainsSent>>,
    >,
    /// Whether each instance's ingress domain has a wildcard record, and when that was seen.
    pub(crate) wildcards: Arc<crate::domains::default_hosts::Wildcards>,
    /// CI OIDC federation: the issuers' keys and the exchange's throttle.
    pub(crate) oidc: Arc<crate::oidc::Hub>,
    /// The instances whose agents other live replicas hold ([`crate::replicas`]).
    pub(crate) held_elsewhere: Arc<std::sync::RwLock<std::collections::HashSet<String>>>,
    /// This replica's changes on their way to the others.
    pub(crate) outbound: Arc<crate::replicas::fanout::Outbound>,
    /// Whether this replica runs the background jobs.
    pub(crate) leader: Arc<crate::replicas::leader::Leader>,
    /// Links to the other replicas, for streams to agents they hold.
    pub(crate) peers: Arc<crate::replicas::peers::Peers>,
    /// Commands this replica forwarded and waits to hear answered.
    pub(crate) awaiting: Arc<crate::replicas::commands::Awaiting>,
}

impl Base {
    pub fn new(store: Store, config: BaseConfig) -> Base {
        let limiter = LoginLimiter::new(
            config.login_window,
            config.login_failures_per_account,
            config.login_failures_per_ip,
        );
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Base {
            store,
            notify: Arc::new(crate::notify::Hub::new(&config.notify)),
            oidc: Arc::new(crate::oidc::Hub::new(
                config.oidc_http_loopback,
                config.login_window,
                config.login_failures_per_ip,
            )),
            config: Arc::new(config),
            hasher: Hasher::new(cores),
            limiter: Arc::new(limiter),
            hook_rejections: Arc::new(crate::webhooks::rejection_limiter()),
            registry: Arc::new(Registry::default()),
            activity: Arc::default(),
            access: Arc::default(),
            logs: Arc::default(),
            keyring: Arc::new(Keyring::from_keys(crate::secrets::keyring::new_key(), &[])),
            mailer: None,
            clock: Clock::system(),
            instance_addrs: Arc::default(),
            domains_sent: Arc::default(),
            wildcards: Arc::default(),
            held_elsewhere: Arc::default(),
            outbound: Arc::default(),
            leader: Arc::default(),
            peers: Arc::default(),
            awaiting: Arc::default(),
        }
    }

    /// Reads the time from `clock` (tests: a manual one) instead of the system clock.
    pub fn with_clock(mut self, clock: Clock) -> Base {
        self.clock = clock;
        self
    }

    /// Uses `keyring` for secrets. A server must: without it, secrets are sealed under a key
    /// that dies with the process.
    pub fn with_keyring(mut self, keyring: Keyring) -> Base {
        self.keyring = Arc::new(keyring);
        self
    }

    /// Emails invitation links through `mailer`.
    pub fn with_mailer(mut self, mailer: crate::mail::Mailer) -> Base {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Closes the database pool (at shutdown, after the last request).
    pub async fn close(&self) {
        self.store.close().await;
    }

    pub fn config(&self) -> &BaseConfig {
        &self.config
    }

    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// Wakes on every change to the cluster's services and deployments.
    pub fn subscribe_activity(&self, cluster_id: &str) -> tokio::sync::watch::Receiver<u64> {
        self.activity.subscribe(cluster_id)
    }
}
