//! Base's HTTP server: the dashboard (Leptos SSR + hydration), the REST API under `/api/v1`, the
//! embedded front-end bundle, and health checks. `main.rs` only parses flags and calls [`run`];
//! tests call [`run`] too, on port 0.
//!
//! - [`config`]: flags and their environment variables.
//! - [`state`]: what handlers share.
//! - [`middleware`]: client address, `Origin` checks.
//! - [`rest`]: `/api/v1` handlers and their error mapping.
//! - [`site`]: the embedded WASM/JS/CSS bundle and the Leptos routes.

// The dashboard's view types are deeply nested; monomorphising them here needs more query depth.
#![recursion_limit = "256"]

pub mod config;
pub mod middleware;
pub mod rest;
pub mod site;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
use state::ServerState;

/// Opens the store, builds the router and serves until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr().context("listener address")?;
    let state = ServerState::open(&config, addr).await?;
    let app = router(state.clone());
    tracing::info!(%addr, public_url = %state.base.config().public_url, "dployr Base is serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving HTTP")?;
    state.base.store().close().await;
    tracing::info!("stopped");
    Ok(())
}

pub fn router(state: ServerState) -> Router {
    let api = rest::router().with_state(state.clone());
    let site = site::router(state.clone());
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api/v1", api)
        .merge(site)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::check_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::client_info,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(middleware::request_span))
}
