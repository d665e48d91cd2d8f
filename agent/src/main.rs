//! `dployrd`: `join` enrolls this server with Base, `run` holds the connection, `status` says
//! what the running agent is doing.

use std::path::PathBuf;

use agent::state::{DataDir, parse_pin};
use anyhow::Context;
use clap::{Parser, Subcommand};

/// The dployr agent: dials out to Base and runs your services.
#[derive(Parser, Debug)]
#[command(name = "dployrd", version = concat!(env!("CARGO_PKG_VERSION"), " (protocol 3)"))]
struct Cli {
    /// Where dployrd keeps its key, certificate and state.
    #[arg(
        long,
        env = "DPLOYRD_DATA_DIR",
        default_value = "/var/lib/dployrd",
        global = true
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Enroll this server with Base using a join token from the dashboard.
    Join {
        /// The gateway URL, e.g. wss://base.example.com:8443
        #[arg(long)]
        url: String,
        /// Join tokens are base64url: one in 64 starts with `-`, which must not read as a flag.
        #[arg(long, allow_hyphen_values = true)]
        token: String,
        /// sha256:<hex> of Base's gateway certificate.
        #[arg(long)]
        pin: String,
    },
    /// Hold the connection to Base (reconnecting forever) and serve the ingress.
    Run(Box<RunArgs>),
    /// Print what the agent is doing.
    Status,
}

/// `dployrd run`'s flags.
#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Where the ingress (the reverse proxy in front of services) listens for plain HTTP.
    #[arg(
        long = "http-listen",
        visible_alias = "ingress-listen",
        env = "DPLOYRD_INGRESS_LISTEN",
        default_value = "127.0.0.1:8000"
    )]
    ingress_listen: std::net::SocketAddr,
    /// Where the ingress listens for HTTPS (certificates by SNI); no HTTPS when not given.
    #[arg(long, env = "DPLOYRD_HTTPS_LISTEN")]
    https_listen: Option<std::net::SocketAddr>,
    /// Services are reachable at `<service>.<this domain>` (and their own domains).
    #[arg(long, env = "DPLOYRD_INGRESS_DOMAIN", default_value = "localhost")]
    ingress_domain: String,
    /// The Docker engine's socket, for docker services.
    #[arg(
        long,
        env = "DOCKER_HOST",
        default_value = "unix:///var/run/docker.sock"
    )]
    docker_host: String,
    /// Refuse browser consoles on this machine, whatever Base allows.
    #[arg(long, env = "DPLOYRD_NO_CONSOLE")]
    no_console: bool,
    /// Seconds between two metrics samples sent to Base.
    #[arg(long, env = "DPLOYRD_METRICS_INTERVAL", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    metrics_interval: u64,
    #[command(flatten)]
    acme: agent::acme::Args,
    /// Another Base replica's gateway URL, dialed in turn with the enrolled one when the
    /// connection ends (repeat it, or comma-separate in DPLOYRD_GATEWAYS).
    #[arg(long = "gateway", env = "DPLOYRD_GATEWAYS", value_delimiter = ',')]
    gateways: Vec<String>,
}

/// Ctrl-C or SIGTERM (what systemd sends on stop).
async fn stop_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    debug_assert_eq!(
        proto::wire::PROTOCOL_VERSION,
        3,
        "update the version string above"
    );
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let data = DataDir(cli.data_dir);
    match cli.command {
        Cmd::Join { url, token, pin } => {
            let pin = parse_pin(&pin).context("--pin must be sha256: followed by 64 hex digits")?;
            if let Some(e) = data.enrollment()? {
                println!(
                    "already enrolled as {} with {}; nothing to do",
                    e.instance_id, e.url
                );
                return Ok(());
            }
            let e = agent::join::join(&data, &url, &token, &pin).await?;
            println!("enrolled as {} with {}", e.instance_id, e.url);
            Ok(())
        }
        Cmd::Run(args) => {
            let RunArgs {
                ingress_listen,
                https_listen,
                ingress_domain,
                docker_host,
                no_console,
                metrics_interval,
                acme,
                gateways,
            } = *args;
            for url in &gateways {
                agent::dial::host_port(url)
                    .with_context(|| format!("--gateway {url} must be wss://host:port"))?;
            }
            let options = agent::run::RunOptions {
                ingress_listen,
                https_listen,
                ingress_domain,
                stop_services_on_exit: false,
                docker: agent::docker::DockerHost::new(docker_host),
                console_enabled: !no_console,
                acme: acme.options(data.path())?,
                metrics_interval: std::time::Duration::from_secs(metrics_interval),
                gateways,
            };
            agent::run::run(data, options, stop_signal()).await
        }
        Cmd::Status => {
            match std::fs::read_to_string(data.path().join("status.json")) {
                Ok(s) => println!("{s}"),
                Err(_) => match data.enrollment()? {
                    Some(e) => {
                        println!("enrolled as {} with {}; not running", e.instance_id, e.url)
                    }
                    None => println!("not enrolled"),
                },
            }
            Ok(())
        }
    }
}
