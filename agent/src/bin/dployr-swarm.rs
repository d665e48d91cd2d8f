//! `dployr-swarm`: a load tool, not part of dployrd. One process holds `--count` real agents,
//! each with its own key, certificate, enrollment and mutual-TLS WebSocket, so Base's cost per
//! connected agent can be measured with thousands of agents on one machine (`.ci/bench-agents`).
//!
//! It signs in as an owner over the REST API, adds the instances to the first cluster, enrolls
//! each with the same `agent::join` dployrd uses, then says `Hello` for every one and answers
//! heartbeats and pings, reconnecting with dployrd's backoff. Progress goes to stderr once a
//! second; `online: N` goes to stdout the first time all N are online. SIGINT or SIGTERM prints a
//! summary of failed attempts and exits. With `--metrics-every` each agent also sends a metrics
//! frame per interval (`load`), as dployrd does. With `--gateway` (repeated) the sessions are
//! spread over several Base replicas (`.ci/bench-replicas`).
//!
//! REST is a few simple requests, so it speaks HTTP/1.1 itself rather than pulling an HTTP
//! client into the agent crate (and into dployrd's build).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use agent::dial::{self, DialError};
use agent::run::Backoff;
use agent::state::{DataDir, Enrollment, parse_pin};
use agent::tls::{AgentIdentity, client_config};
use anyhow::{Context, bail};
use clap::Parser;
use proto::api::{CreateInstanceRequest, CreateInstanceResponse, MeResponse};
use proto::wire::{
    AgentMsg, AgentState, BaseMsg, Command, CommandErrorKind, HostFacts, Outcome, PROTOCOL_VERSION,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[path = "dployr-swarm/http.rs"]
mod http;
#[path = "dployr-swarm/load.rs"]
mod load;

use http::Http;

/// Opens many idle dployrd connections to one Base.
#[derive(Parser, Debug)]
#[command(name = "dployr-swarm")]
struct Cli {
    /// Base's HTTP address, e.g. http://127.0.0.1:8080
    #[arg(long)]
    base: url::Url,
    /// How many agents to hold.
    #[arg(long)]
    count: usize,
    /// An owner (or admin) of the cluster the instances go into.
    #[arg(long)]
    email: String,
    #[arg(long, env = "DPLOYR_SWARM_PASSWORD")]
    password: String,
    /// Agents being added, enrolled and connected at once; more only queues in Base's handshakes.
    #[arg(long, default_value_t = 32)]
    parallel: usize,
    /// Instance names are `<prefix>-<n>`.
    #[arg(long, default_value = "swarm")]
    prefix: String,
    /// Scratch space for each agent's key files until they are loaded (default: /dev/shm, where
    /// the key writes' fsync is free).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Send a metrics frame every this many seconds per agent (0: none, idle agents).
    #[arg(long, default_value_t = 0)]
    metrics_every: u64,
    /// Service samples in each metrics frame.
    #[arg(long, default_value_t = 0)]
    services: usize,
    /// Gateways to spread the sessions over (agent n dials the n-th, round robin), e.g. the
    /// replicas of one Base; default: the URL each install command names.
    #[arg(long = "gateway")]
    gateways: Vec<String>,
}

/// What each agent sends besides answers.
#[derive(Debug, Clone, Copy)]
struct Load {
    metrics_every: Option<Duration>,
    services: usize,
}

/// What every agent task reports into; read by the progress line.
#[derive(Default)]
struct Stats {
    created: AtomicUsize,
    enrolled: AtomicUsize,
    online: AtomicUsize,
    /// Failed setup steps and dropped sessions, by message.
    errors: std::sync::Mutex<HashMap<String, usize>>,
}

impl Stats {
    fn error(&self, what: &str, e: impl std::fmt::Display) {
        let mut errors = self.errors.lock().expect("stats lock");
        *errors.entry(format!("{what}: {e}")).or_default() += 1;
    }

    fn error_count(&self) -> usize {
        self.errors.lock().expect("stats lock").values().sum()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    check_fd_limit(cli.count + 4 * cli.parallel + 64)?;

    let mut http = Http::new(&cli.base)?;
    http.login(&cli.email, &cli.password).await?;
    let me: MeResponse = http.call("GET", "/api/v1/me", None::<&()>, 200).await?;
    let cluster = me
        .clusters
        .first()
        .context("the account has no cluster")?
        .id
        .clone();
    let http = Arc::new(http);

    let scratch = cli
        .work_dir
        .clone()
        .unwrap_or_else(|| {
            let shm = Path::new("/dev/shm");
            if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            }
        })
        .join(format!("dployr-swarm-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {scratch:?}"))?;

    let stats = Arc::new(Stats::default());
    let setup = Arc::new(Semaphore::new(cli.parallel.max(1)));
    let host = HostFacts::detect();
    let started = Instant::now();
    let load = Load {
        metrics_every: (cli.metrics_every > 0).then(|| Duration::from_secs(cli.metrics_every)),
        services: cli.services,
    };
    let gateways = Arc::new(cli.gateways.clone());
    for n in 1..=cli.count {
        let (http, stats, setup, host) = (http.clone(), stats.clone(), setup.clone(), host.clone());
        let gateways = gateways.clone();
        let (cluster, name) = (cluster.clone(), format!("{}-{n}", cli.prefix));
        let dir = scratch.join(format!("agent-{n}"));
        tokio::spawn(async move {
            let permit = setup.acquire_owned().await.expect("semaphore never closed");
            match add_and_join(&http, &cluster, &name, &dir, &stats).await {
                Ok((mut enr, id)) => {
                    if !gateways.is_empty() {
                        enr.url = gateways[n % gateways.len()].clone();
                    }
                    hold(enr, id, host, stats, permit, (n, load)).await
                }
                Err(e) => stats.error("setup", format!("{e:#}")),
            }
        });
    }

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut all_online_reported = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
        let online = stats.online.load(Relaxed);
        eprintln!(
            "[swarm] {:6.1}s created {}/{n} enrolled {}/{n} online {online}/{n} errors {}",
            started.elapsed().as_secs_f64(),
            stats.created.load(Relaxed),
            stats.enrolled.load(Relaxed),
            stats.error_count(),
            n = cli.count,
        );
        if online == cli.count && !all_online_reported {
            all_online_reported = true;
            let _ = std::fs::remove_dir_all(&scratch);
            println!(
                "online: {online} (in {:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("[swarm] stopping; online {}", stats.online.load(Relaxed));
    for (message, count) in stats.errors.lock().expect("stats lock").iter() {
        eprintln!("[swarm] {count} x {message}");
    }
    Ok(())
}

/// Each connection is a file descriptor here and one in Base; refuse early and say how to fix
/// it rather than fail thousands of connects later with EMFILE. (Raising the limit ourselves
/// would need `setrlimit`, i.e. `unsafe` or a libc dependency; the shell does it in one word.)
fn check_fd_limit(need: usize) -> anyhow::Result<()> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let Some(line) = limits.lines().find(|l| l.starts_with("Max open files")) else {
        return Ok(());
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let soft = fields.get(3).copied().unwrap_or("unlimited");
    if soft.parse::<usize>().is_ok_and(|soft| soft < need) {
        bail!(
            "the open-files limit is {soft} but {need} are needed: run `ulimit -n {need}` (the \
             hard limit is {}) and raise Base's limit the same way",
            fields.get(4).copied().unwrap_or("?")
        );
    }
    Ok(())
}

/// Adds instance `name` over REST and enrolls an agent for it; returns its enrollment and key.
async fn add_and_join(
    http: &Http,
    cluster: &str,
    name: &str,
    dir: &Path,
    stats: &Stats,
) -> anyhow::Result<(Enrollment, AgentIdentity)> {
    let body = CreateInstanceRequest { name: name.into() };
    let path = format!("/api/v1/clusters/{cluster}/instances");
    let made: CreateInstanceResponse = http.call("POST", &path, Some(&body), 201).await?;
    stats.created.fetch_add(1, Relaxed);
    let cmd = made.install_command;
    let arg = |flag: &str| {
        let mut words = cmd.split_whitespace().skip_while(|w| *w != flag);
        words
            .nth(1)
            .with_context(|| format!("install command without {flag}: {cmd}"))
    };
    let pin = parse_pin(arg("--pin")?).context("install command's --pin")?;
    let data = DataDir(dir.to_path_buf());
    let enr = agent::join::join(&data, arg("--url")?, arg("--token")?, &pin).await?;
    let identity = AgentIdentity::load_or_create(dir)?;
    // Both are in memory now; the files were only the way `join` hands them over.
    let _ = std::fs::remove_dir_all(dir);
    stats.enrolled.fetch_add(1, Relaxed);
    Ok((enr, identity))
}

/// One agent, forever: connect, `Hello`, answer until the connection ends, back off, repeat.
/// The setup permit is returned at the first `Welcome` (or first failure), so at most
/// `--parallel` agents are ever in their first handshakes.
async fn hold(
    enr: Enrollment,
    identity: AgentIdentity,
    host: HostFacts,
    stats: Arc<Stats>,
    permit: OwnedSemaphorePermit,
    load: (usize, Load),
) {
    let mut permit = Some(permit);
    let mut backoff = Backoff::default();
    loop {
        let welcomed = || {
            drop(permit.take());
            backoff.reset();
        };
        let result = session(&enr, &identity, &host, &stats, welcomed, load).await;
        drop(permit.take());
        if let Err(e) = result {
            stats.error("session", e);
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// One connection from dial to close; calls `welcomed` once Base says `Welcome`.
async fn session(
    enr: &Enrollment,
    identity: &AgentIdentity,
    host: &HostFacts,
    stats: &Stats,
    welcomed: impl FnOnce(),
    (n, load): (usize, Load),
) -> Result<(), DialError> {
    let tls = client_config(&enr.pin, Some(identity))?;
    let hello = AgentMsg::Hello {
        protocol: PROTOCOL_VERSION,
        version: format!("{}-swarm", agent::join::VERSION),
        host: host.clone(),
        state: AgentState::default(),
    };
    let (mut ws, heartbeat) = dial::greet(&enr.url, tls, &hello).await?;
    welcomed();
    stats.online.fetch_add(1, Relaxed);
    let mut metrics = load.metrics_every.map(|every| {
        let first = tokio::time::Instant::now() + load::first_delay(n, every);
        tokio::time::interval_at(first, every)
    });
    let mut seq = 0;
    let result = async {
        loop {
            let next_frame = async {
                match &mut metrics {
                    Some(tick) => tick.tick().await,
                    None => std::future::pending().await,
                }
            };
            let msg = tokio::select! {
                msg = tokio::time::timeout(heartbeat * 3, dial::recv(&mut ws)) => Some(msg),
                _ = next_frame => None,
            };
            let Some(msg) = msg else {
                seq += 1;
                let frame = AgentMsg::Metrics(load::frame(n, seq, load.services));
                dial::send(&mut ws, &frame).await?;
                continue;
            };
            let msg = msg.map_err(|_| DialError::Silent)??;
            let answer = match msg {
                None => return Ok(()),
                Some(BaseMsg::Heartbeat { seq }) => AgentMsg::Heartbeat { seq },
                Some(BaseMsg::Command { id, command }) => {
                    let outcome = match command {
                        Command::Ping => Outcome::Ok,
                        _ => Outcome::err(
                            CommandErrorKind::Invalid,
                            "dployr-swarm only answers pings",
                        ),
                    };
                    AgentMsg::Ack { id, outcome }
                }
                Some(BaseMsg::Refused { reason }) => return Err(DialError::Refused(reason)),
                Some(_) => continue,
            };
            dial::send(&mut ws, &answer).await?;
        }
    }
    .await;
    stats.online.fetch_sub(1, Relaxed);
    result
}
