//! What a fresh server fetches from Base: `GET /install.sh` (the installer, with this Base's URL
//! filled in) and `GET /download/dployrd` (the agent binary Base ships with: by default the
//! `dployrd` beside `dployr-server`, or `DPLOYR_AGENT_BIN`); and what a CI job fetches:
//! `GET /download/dployr`, the CLI (beside `dployr-server`, or `DPLOYR_CLI_BIN`), so the CLI a
//! job runs always matches the Base it talks to, and `GET /download/github-action.yml`, the
//! GitHub Action that runs it. `GET /download/dployrd.sha256` and `/download/dployr.sha256`
//! give their SHA-256 in `sha256sum` format, for the action's `cli-sha256` input and for people
//! checking by hand (install commands carry the agent's in `--sha256`).

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
        .route("/download/dployr", get(cli_binary))
        .route("/download/dployrd.sha256", get(agent_checksum))
        .route("/download/dployr.sha256", get(cli_checksum))
        .route("/download/github-action.yml", get(github_action))
}

async fn agent_checksum(State(state): State<ServerState>) -> Response {
    checksum(state.agent_bin, "dployrd").await
}

async fn cli_checksum(State(state): State<ServerState>) -> Response {
    checksum(state.cli_bin, "dployr").await
}

/// `<hex>  <name>`, what `sha256sum` prints and `sha256sum -c` reads.
async fn checksum(path: Option<std::path::PathBuf>, name: &'static str) -> Response {
    let Some(path) = path else {
        return (
            StatusCode::NOT_FOUND,
            format!("this Base has no {name} binary"),
        )
            .into_response();
    };
    match tokio::task::spawn_blocking(move || crate::config::sha256_file(&path)).await {
        Ok(Ok(hex)) => (
            [
                (CONTENT_TYPE, "text/plain; charset=utf-8"),
                (CACHE_CONTROL, "no-store"),
            ],
            format!("{hex}  {name}\n"),
        )
            .into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            format!("this Base has no {name} binary"),
        )
            .into_response(),
    }
}

/// The composite GitHub Action that installs the CLI from this Base and deploys
/// (docs/github-actions.md), served so a repository can take it without a third-party `uses:`.
const GITHUB_ACTION: &str = include_str!("../../.github/actions/deploy/action.yml");

async fn github_action() -> Response {
    (
        [
            (CONTENT_TYPE, "text/yaml; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        GITHUB_ACTION,
    )
        .into_response()
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
    serve_binary(state.agent_bin.as_deref(), "dployrd", "DPLOYR_AGENT_BIN").await
}

async fn cli_binary(State(state): State<ServerState>) -> Response {
    serve_binary(state.cli_bin.as_deref(), "dployr", "DPLOYR_CLI_BIN").await
}

async fn serve_binary(path: Option<&std::path::Path>, name: &str, setting: &str) -> Response {
    let missing = format!("this Base has no {name} binary to serve: set {setting}");
    let Some(path) = path else {
        return (StatusCode::NOT_FOUND, missing).into_response();
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => (
            [
                (CONTENT_TYPE, "application/octet-stream".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (CACHE_CONTROL, "no-store".to_string()),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot read the {name} binary");
            (StatusCode::NOT_FOUND, missing).into_response()
        }
    }
}
