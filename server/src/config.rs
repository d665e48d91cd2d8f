//! Base's configuration: every flag has an environment variable, so the same binary runs from a
//! shell, a systemd unit or a container without a config file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

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
    /// Trust the first `X-Forwarded-For` address (only behind your own reverse proxy).
    #[arg(long, env = "DPLOYR_TRUST_PROXY")]
    pub trust_proxy: bool,
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
    /// An SMTP relay for invitation emails: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`
    /// or `smtps://user:pass@host:465`. Without it, the dashboard shows invitation links to copy.
    #[arg(long, env = "DPLOYR_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of those emails (default: `dployr <dployr@<public host>>`).
    #[arg(long, env = "DPLOYR_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "DPLOYR_LOG_JSON")]
    pub log_json: bool,
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
            agent_bin: None,
            cli_bin: None,
            local_agent: false,
            local_ingress: "127.0.0.1:0".parse().expect("literal address"),
            log_json: false,
            smtp_url: None,
            smtp_from: None,
            console_idle_secs: 1800,
            upload_max_bytes: 1 << 30,
            drain_secs: control::Limits::default().drain_secs,
            task: None,
        }
    }
}
