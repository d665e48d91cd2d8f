//! Base's HTTP server: the dashboard (Leptos SSR + hydration), the REST API under `/api/v1`, the
//! embedded front-end bundle, and health checks. `main.rs` only parses flags and calls [`run`];
//! tests call [`run`] too, on port 0.
//!
//! - [`config`]: flags and their environment variables.
//! - [`state`]: what handlers share.
//! - [`middleware`]: client address, `Origin` checks, security headers.
//! - [`http_counts`]: Base's own request counts by route and status class.
//! - [`prometheus`]: `GET /metrics` in Prometheus' text format (Owner/Admin API tokens).
//! - [`proxy`]: which `X-Forwarded-For` hop is the client, given the trusted proxies.
//! - [`tls`]: HTTPS on Base's own listener (`--tls acme|files`) and the plain listener beside it.
//! - [`rest`]: `/api/v1` handlers and their error mapping; `rest::hooks` also serves the public
//!   push-to-deploy route `/hooks/{provider}/{service}`.
//! - [`install`]: `/install.sh` and `/download/dployrd` for new servers.
//! - [`local_agent`]: the dployrd Base runs beside itself with `--local-agent`.
//! - [`tasks`]: maintenance tasks such as `rotate-key`.
//! - [`peer_link`]: the listener other replicas relay streams through (`DPLOYR_PEER_LISTEN`).
//! - [`single_replica`]: the lock that keeps a second Base off one SQLite database.
//! - [`site`]: the embedded WASM/JS/CSS bundle and the Leptos routes.

// The dashboard's view types are deeply nested; monomorphising them here needs more query depth.
#![recursion_limit = "256"]

pub mod config;
pub mod http_counts;
pub mod install;
pub mod local_agent;
pub mod middleware;
pub mod peer_link;
pub mod prometheus;
pub mod proxy;
pub mod rest;
pub mod single_replica;
pub mod site;
pub mod state;
pub mod tasks;
pub mod tls;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::trace::TraceLayer;

pub use config::Config;
use state::ServerState;

/// The sockets Base serves: the dashboard and API (HTTPS with `--tls`), the agent gateway, and
/// with TLS on, optionally the plain-HTTP listener for ACME HTTP-01 and redirects.
#[derive(Debug)]
pub struct Listeners {
    pub http: TcpListener,
    pub gateway: TcpListener,
    pub plain: Option<TcpListener>,
}

impl Listeners {
    pub async fn bind(config: &Config) -> anyhow::Result<Listeners> {
        let http = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let gateway = TcpListener::bind(config.gateway_listen)
            .await
            .with_context(|| format!("binding the gateway on {}", config.gateway_listen))?;
        let plain = match config.tls.plain_listen() {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the plain HTTP listener on {addr}"))?,
            ),
            None => None,
        };
        Ok(Listeners {
            http,
            gateway,
            plain,
        })
    }
}

/// How often Base looks for deployments that can no longer finish.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Opens the store, builds the router and serves HTTP and the agent gateway until `shutdown`
/// resolves.
pub async fn run(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listeners.http.local_addr().context("listener address")?;
    let gateway_addr = listeners.gateway.local_addr().context("gateway address")?;
    let peer = peer_link::bind(&config).await?;
    let peer_addr = peer.as_ref().map(|(_, advertised)| advertised.clone());
    let state = ServerState::open(&config, addr, gateway_addr, peer_addr).await?;
    let public_url = state.base.config().public_url.clone();
    // Kept until `run` returns: dropping it stops the certificate's upkeep.
    let https = tls::start(&config.tls, &config.data_dir, &public_url)?;
    let app = router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    // Among the replicas before any agent connects (their connections are recorded there).
    state
        .base
        .join_replicas()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("joining the replicas")?;
    let (base, mut lease_stop) = (state.base.clone(), stop_rx.clone());
    tokio::spawn(async move {
        base.run_replica_lease(async move {
            let _ = lease_stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    // On PostgreSQL: this replica's changes to the others, and theirs to its live views.
    let (base, mut fanout_stop) = (state.base.clone(), stop_rx.clone());
    tokio::spawn(async move {
        base.run_fanout(async move {
            let _ = fanout_stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    state
        .base
        .enable_peers(&state.gateway_identity)
        .context("peer link TLS config")?;
    if let Some((listener, _)) = peer {
        let (base, mut peer_stop) = (state.base.clone(), stop_rx.clone());
        tokio::spawn(async move {
            base.serve_peers(listener, async move {
                let _ = peer_stop.wait_for(|stop| *stop).await;
            })
            .await
        });
    }
    let tls = control::gateway::tls::server_config(&state.gateway_identity)
        .context("gateway TLS config")?;
    let mut gateway_stop = stop_rx.clone();
    let gateway = tokio::spawn(control::gateway::listener::serve(
        state.base.clone(),
        listeners.gateway,
        tls,
        async move {
            let _ = gateway_stop.wait_for(|stop| *stop).await;
        },
    ));
    // Ends deployments that can no longer finish (their instance stayed away too long).
    let (base, mut sweep_stop) = (state.base.clone(), stop_rx.clone());
    tokio::spawn(async move {
        base.run_sweeper(SWEEP_EVERY, async move {
            let _ = sweep_stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    // Verifies pending domains once their TXT record appears.
    let (base, mut checks_stop) = (state.base.clone(), stop_rx.clone());
    tokio::spawn(async move {
        base.run_domain_checks(control::domains::verify::CHECK_EVERY, async move {
            let _ = checks_stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    // Rolls metrics up to 1-minute and 1-hour points and deletes what is past its retention.
    let (base, mut rollup_stop) = (state.base.clone(), stop_rx.clone());
    tokio::spawn(async move {
        base.run_metrics_rollup(control::metrics::ROLLUP_EVERY, async move {
            let _ = rollup_stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    // Watches for incidents and delivers the notification outbox.
    let (base, mut notify_stop) = (state.base.clone(), stop_rx.clone());
    tokio::spawn(async move {
        base.run_notifications(async move {
            let _ = notify_stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    tracing::info!(
        %addr,
        %gateway_addr,
        public_url = %state.base.config().public_url,
        tls = ?config.tls.mode,
        gateway_url = %state.base.config().gateway.url,
        "dployr Base is serving"
    );
    warn_if_plain_http(&state.base.config().public_url);
    if config.local_agent {
        let dir = local_agent::agent_dir(&config.data_dir, config.local_agent_dir.as_deref())?;
        if config.data_dir.join("local-agent").exists() {
            tracing::warn!(
                old = %config.data_dir.join("local-agent").display(),
                new = %dir.display(),
                "the local agent's state moved out of Base's data dir; the old one is unused: \
                 stop what runs from it and remove it"
            );
        }
        match state.agent_bin.clone().filter(|p| p.exists()) {
            Some(bin) => {
                let agent = local_agent::LocalAgent {
                    bin,
                    dir,
                    ingress: config.local_ingress,
                    console: config.local_agent_console,
                };
                tokio::spawn(local_agent::supervise(
                    state.base.clone(),
                    agent,
                    stop_rx.clone(),
                ));
            }
            None => tracing::warn!("--local-agent: no dployrd binary found (set DPLOYR_AGENT_BIN)"),
        }
    }
    if let Some(plain) = listeners.plain {
        let routes = tls::plain::router(
            https.as_ref().and_then(|t| t.challenges.clone()),
            &public_url,
        );
        let mut plain_stop = stop_rx.clone();
        let plain_addr = plain
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        tracing::info!(addr = %plain_addr, "plain HTTP: ACME challenges, and redirects to https");
        tokio::spawn(
            axum::serve(plain, routes)
                .with_graceful_shutdown(async move {
                    let _ = plain_stop.wait_for(|stop| *stop).await;
                })
                .into_future(),
        );
    }
    let (mut http_stop, mut drain_stop) = (stop_rx.clone(), stop_rx);
    let stopped = async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    };
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let serve: std::pin::Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> = match &https {
        None => Box::pin(
            axum::serve(listeners.http, make)
                .with_graceful_shutdown(stopped)
                .into_future(),
        ),
        Some(https) => {
            use axum::serve::ListenerExt;
            let listener =
                tls::listener::TlsListener::new(listeners.http, addr, https.config.clone())
                    // `tap_io` only so that `ConnectInfo<SocketAddr>` applies (axum implements it
                    // for tapped listeners).
                    .tap_io(|_| {});
            Box::pin(
                axum::serve(listener, make)
                    .with_graceful_shutdown(stopped)
                    .into_future(),
            )
        }
    };
    // Graceful shutdown waits for open responses, and some never end by themselves (a
    // `dployr logs -f`, a live page's WebSocket, a console): give them a while, then stop.
    let drain_limit = std::time::Duration::from_secs(config.shutdown_drain_secs);
    let drained = async move {
        let _ = drain_stop.wait_for(|stop| *stop).await;
        tokio::time::sleep(drain_limit).await;
    };
    tokio::select! {
        served = serve => served.context("serving HTTP")?,
        () = drained => tracing::warn!(
            "connections still open {drain_limit:?} after the stop signal (log follows, \
             consoles, live pages): stopping anyway"
        ),
    }
    let _ = gateway.await;
    drop(https);
    state.base.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Install commands and the CLI download go through the public URL and end up running as root
/// or with deploy tokens: over plain HTTP beyond this machine, anyone on the path can swap them
/// (the `--sha256` in install commands still catches a swapped dployrd).
fn warn_if_plain_http(public_url: &url::Url) {
    let loopback = match public_url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    };
    if public_url.scheme() == "http" && !loopback {
        tracing::warn!(
            %public_url,
            "!!! Base's public URL is plain http:// and not loopback: sessions, API tokens, \
             install.sh and the binaries it serves can be read and changed on the network. \
             Put Base behind HTTPS and set --public-url https://… !!!"
        );
    }
}

pub fn router(state: ServerState) -> Router {
    let hsts = middleware::Hsts(state.base.config().secure_cookies());
    let state_counts = state.http_counts.clone();
    let api = rest::router().with_state(state.clone());
    let site = site::router(state.clone());
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api/v1", api)
        .merge(install::router().with_state(state.clone()))
        .merge(prometheus::router().with_state(state.clone()))
        .merge(rest::hooks::router().with_state(state.clone()))
        .merge(site)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::check_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::client_info,
        ))
        // Files from the explorer go as they are: tar.gz is compressed already, and a streamed
        // download keeps its exact Content-Length (progress bars, integrity). Live NDJSON (log
        // follows) goes as it is too: a streaming encoder can hold the newest lines in its
        // buffer until more output comes, which made the log viewer miss a burst's last lines.
        .layer(
            CompressionLayer::new().compress_when(
                DefaultPredicate::new()
                    .and(NotForContentType::const_new("application/octet-stream"))
                    .and(NotForContentType::const_new("application/gzip"))
                    .and(NotForContentType::const_new("application/x-ndjson")),
            ),
        )
        .layer(axum::middleware::from_fn_with_state(
            hsts,
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state_counts,
            http_counts::count,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(middleware::request_span))
}
