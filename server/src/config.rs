//! Base's configuration: every flag has an environment variable, so the same binary runs from a
//! shell, a systemd unit or a container without a config file.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use control::Store;
use control::secrets::KeySettings;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "dployr-server",
    version,
    about = "dployr Base: the control plane and dashboard"
)]
pub struct Config {
    /// Address the dashboard and API listen on.
    #[arg(long, env = "DPLOYR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Address the agent gateway (mutual TLS) listens on.
    #[arg(long, env = "DPLOYR_GATEWAY_LISTEN", default_value = "127.0.0.1:8443")]
    pub gateway_listen: SocketAddr,
    /// The gateway URL install commands advertise (default: wss://<gateway listen>).
    #[arg(long, env = "DPLOYR_GATEWAY_URL")]
    pub gateway_url: Option<String>,
    /// Where Base keeps its SQLite database and keys.
    #[arg(long, env = "DPLOYR_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The URL people use to reach Base (default: http://<listen>). Browsers' `Origin` headers
    /// must match it, and cookies get `Secure` when it is https.
    #[arg(long, env = "DPLOYR_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// `postgres://…` to use PostgreSQL; default is SQLite in the data dir.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Let anyone sign up (normally only the first person may; others are invited).
    #[arg(long, env = "DPLOYR_OPEN_SIGNUP")]
    pub open_signup: bool,
    /// Trust a reverse proxy on this host (loopback): the client is the rightmost
    /// `X-Forwarded-For` hop that is not a trusted proxy.
    #[arg(long, env = "DPLOYR_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// A reverse proxy (address or CIDR block) whose `X-Forwarded-For` hops are believed;
    /// repeat the flag, or separate blocks with commas in the variable.
    #[arg(
        long = "trusted-proxy",
        env = "DPLOYR_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<crate::proxy::Cidr>,
    /// The dployrd binary served at /download/dployrd (default: `dployrd` beside this binary).
    #[arg(long, env = "DPLOYR_AGENT_BIN")]
    pub agent_bin: Option<PathBuf>,
    /// The `dployr` CLI served at /download/dployr (default: `dployr` beside this binary).
    #[arg(long, env = "DPLOYR_CLI_BIN")]
    pub cli_bin: Option<PathBuf>,
    /// Also run a dployrd on this machine, joined to the first cluster (what `.ci/start` does).
    #[arg(long, env = "DPLOYR_LOCAL_AGENT")]
    pub local_agent: bool,
    /// Where the local dployrd's ingress listens (services at `<name>.localhost:<port>`).
    #[arg(long, env = "DPLOYR_LOCAL_INGRESS", default_value = "127.0.0.1:8000")]
    pub local_ingress: SocketAddr,
    /// Where the local dployrd keeps its state (default: `<data dir>-agent`, beside Base's data
    /// dir and never inside it, so the agent's console and services never start next to
    /// `master.key` and the database).
    #[arg(long, env = "DPLOYR_LOCAL_AGENT_DIR")]
    pub local_agent_dir: Option<PathBuf>,
    /// Allow the browser console on the local instance. It is a shell with dployrd's uid on
    /// Base's own machine (root when Base runs as root), so it is off unless you say so.
    #[arg(long, env = "DPLOYR_LOCAL_AGENT_CONSOLE")]
    pub local_agent_console: bool,
    /// Close a browser console after this many seconds without a keystroke.
    #[arg(long, env = "DPLOYR_CONSOLE_IDLE_SECS", default_value_t = 1800)]
    pub console_idle_secs: u32,
    /// The largest upload through the file explorer, in bytes (default 1 GiB).
    #[arg(long, env = "DPLOYR_UPLOAD_MAX_BYTES", default_value_t = 1 << 30)]
    pub upload_max_bytes: u64,
    /// How long the previous release keeps serving after a deployment switches to the new one,
    /// in seconds (sent with every deploy order).
    #[arg(long, env = "DPLOYR_DRAIN_SECS", default_value_t = control::Limits::default().drain_secs)]
    pub drain_secs: u32,
    /// The one DNS server (`ip:port`) asked for domains' `_dployr` TXT records; default: the
    /// system's resolvers (`/etc/resolv.conf`).
    #[arg(long, env = "DPLOYR_DNS_SERVER")]
    pub dns_server: Option<std::net::SocketAddr>,
    /// How long an instance's agent may be away before its channels hear it is offline, in
    /// seconds.
    #[arg(long, env = "DPLOYR_OFFLINE_GRACE_SECS", default_value_t = 30)]
    pub offline_grace_secs: u64,
    /// The wait before a failed notification is tried again, in milliseconds; it doubles after
    /// each failure (6 tries in all).
    #[arg(long, env = "DPLOYR_NOTIFY_RETRY_MS", default_value_t = 10_000)]
    pub notify_retry_ms: u64,
    /// This Base's name among the replicas on one PostgreSQL database (default: random per
    /// start); see docs/scale-out.md.
    #[arg(long, env = "DPLOYR_REPLICA_ID")]
    pub replica_id: Option<String>,
    /// How long a replica that stopped renewing its lease still counts as holding its agents,
    /// in seconds.
    #[arg(long, env = "DPLOYR_REPLICA_LEASE_SECS", default_value_t = 15)]
    pub replica_lease_secs: u64,
    /// Where this replica takes consoles and file transfers the other replicas relay to agents
    /// it holds (mutual TLS with the shared gateway key); none when not given.
    #[arg(long, env = "DPLOYR_PEER_LISTEN")]
    pub peer_listen: Option<SocketAddr>,
    /// The `host:port` the other replicas dial for the peer link (default: the bound address,
    /// which must then not be 0.0.0.0 or [::]).
    #[arg(long, env = "DPLOYR_PEER_ADVERTISE")]
    pub peer_advertise: Option<String>,
    /// Tests only: trust OIDC issuers at `http://127.0.0.1` (a test's own issuer); real
    /// issuers are `https://` only.
    #[arg(long, env = "DPLOYR_OIDC_HTTP_LOOPBACK", hide = true)]
    pub oidc_http_loopback: bool,
    /// An SMTP relay for invitation emails: `smtp://host:25`,
    /// `smtp://user:pass@host:587?tls=required` or `smtps://user:pass@host:465`. Without it, the
    /// dashboard shows invitation links to copy.
    #[arg(long, env = "DPLOYR_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of those emails (default: `dployr <dployr@<public host>>`).
    #[arg(long, env = "DPLOYR_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// The master key that seals secrets, 64 hex digits (default: `master.key` in the data dir,
    /// made on first start). Prefer the environment variable to the flag.
    #[arg(long, env = "DPLOYR_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Keys a rotation retired that you hold yourself: comma-separated, 64 hex digits each.
    #[arg(long, env = "DPLOYR_RETIRED_MASTER_KEYS", hide_env_values = true)]
    pub retired_master_keys: Option<String>,
    /// How long a stopping Base waits for connections that never end by themselves (log
    /// follows, consoles, live pages) before it stops anyway, in seconds.
    #[arg(long, env = "DPLOYR_SHUTDOWN_DRAIN_SECS", default_value_t = 10)]
    pub shutdown_drain_secs: u64,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "DPLOYR_LOG_JSON")]
    pub log_json: bool,
    /// HTTPS on Base's own listener (`--tls off|acme|files`).
    #[command(flatten)]
    pub tls: crate::tls::TlsArgs,
    /// A maintenance task to run instead of serving.
    #[command(subcommand)]
    pub task: Option<Task>,
}

/// Maintenance tasks (`dployr-server <task>`); they use the same data dir and database flags.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Task {
    /// Make a new master key and seal every secret again under it (the old key file is kept
    /// as master.key.<id>). With DPLOYR_MASTER_KEY set to the new key and the old one in
    /// DPLOYR_RETIRED_MASTER_KEYS, only seals everything again. Stop Base first.
    RotateKey,
}

impl Config {
    /// Defaults for a Base in `data_dir`, as tests and embedders want it.
    pub fn for_data_dir(data_dir: PathBuf) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("literal address"),
            gateway_listen: "127.0.0.1:0".parse().expect("literal address"),
            gateway_url: None,
            data_dir,
            public_url: None,
            database_url: None,
            open_signup: false,
            trust_proxy: false,
            trusted_proxies: Vec::new(),
            agent_bin: None,
            cli_bin: None,
            local_agent: false,
            local_ingress: "127.0.0.1:0".parse().expect("literal address"),
            local_agent_dir: None,
            local_agent_console: false,
            log_json: false,
            smtp_url: None,
            smtp_from: None,
            master_key: None,
            retired_master_keys: None,
            console_idle_secs: 1800,
            upload_max_bytes: 1 << 30,
            shutdown_drain_secs: 10,
            drain_secs: control::Limits::default().drain_secs,
            dns_server: None,
            offline_grace_secs: 30,
            notify_retry_ms: 10_000,
            replica_id: None,
            replica_lease_secs: 15,
            peer_listen: None,
            peer_advertise: None,
            oidc_http_loopback: false,
            tls: crate::tls::TlsArgs::default(),
            task: None,
        }
    }
}

impl Config {
    /// The data dir (made if missing) and the database in it or at `--database-url`.
    pub async fn open_store(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data dir {}", self.data_dir.display()))?;
        seal_dir(&self.data_dir);
        let url = match &self.database_url {
            Some(u) => u.clone(),
            None => Store::sqlite_url(&self.data_dir),
        };
        Store::open(&url)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("opening the database")
    }

    /// The SQLite database file this Base uses, if it uses one.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let url = match &self.database_url {
            Some(u) => u.clone(),
            None => Store::sqlite_url(&self.data_dir),
        };
        let rest = url.strip_prefix("sqlite:")?;
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// The master keys the operator holds (none: Base keeps `master.key` in the data dir).
    pub fn key_settings(&self) -> KeySettings {
        KeySettings {
            master: self.master_key.clone(),
            retired: self.retired_master_keys.clone(),
        }
    }

    /// The dployrd binary served to installers: the configured path, else `dployrd` beside
    /// this executable.
    pub fn agent_bin(&self) -> Option<PathBuf> {
        self.agent_bin.clone().or_else(|| beside_server("dployrd"))
    }

    /// The `dployr` CLI served to CI jobs: the configured path, else `dployr` beside this
    /// executable.
    pub fn cli_bin(&self) -> Option<PathBuf> {
        self.cli_bin.clone().or_else(|| beside_server("dployr"))
    }
}

/// Makes `dir` readable by its owner only (0700): Base's data dir holds `master.key`, the
/// database and the gateway key, and services on this machine run as other users. A data dir
/// Base does not own keeps its mode, with a warning.
pub fn seal_dir(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::metadata(dir) {
        Ok(m) => m.permissions().mode() & 0o777,
        Err(_) => return,
    };
    if mode & 0o077 == 0 {
        return;
    }
    if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot make the data dir 0700: other users may read it");
    }
}

/// The SHA-256 (of a binary Base serves) of the file at `path`, in lowercase hex.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// A file next to this executable.
fn beside_server(name: &str) -> Option<PathBuf> {
    std::env::current_exe().ok()?.parent().map(|d| d.join(name))
}
