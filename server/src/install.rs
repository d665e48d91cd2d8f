//! What a fresh server fetches from Base: `GET /install.sh` (the installer, with this Base's URL
//! filled in) and `GET /download/dployrd` (the agent binary Base ships with: by default the
//! `dployrd` beside `dployr-server`, or `DPLOYR_AGENT_BIN`).

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};

use crate::state::ServerState;

const SCRIPT: &str = include_str!("install.sh");

pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/install.sh", get(script))
        .route("/download/dployrd", get(agent_binary))
}

/// Where the agent binary is: the configured path, else `dployrd` next to this executable.
pub fn default_agent_bin() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()?
        .parent()
        .map(|d| d.join("dployrd"))
}

async fn script(State(state): State<ServerState>) -> Response {
    let base = state
        .base
        .config()
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let body = SCRIPT.replace("__DPLOYR_BASE_URL__", &base);
    (
        [
            (CONTENT_TYPE, "text/x-shellscript; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn agent_binary(State(state): State<ServerState>) -> Response {
    let Some(path) = state.agent_bin.clone() else {
        return (StatusCode::NOT_FOUND, "this Base ships no dployrd binary").into_response();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (CONTENT_TYPE, "application/octet-stream"),
                (CONTENT_DISPOSITION, "attachment; filename=\"dployrd\""),
                (CACHE_CONTROL, "no-store"),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot read the dployrd binary");
            (
                StatusCode::NOT_FOUND,
                "this Base has no dployrd binary to serve: set DPLOYR_AGENT_BIN",
            )
                .into_response()
        }
    }
}
