//! `GET /api/v1/services/{id}/console` and `GET /api/v1/instances/{id}/console` (WebSocket):
//! a browser terminal relayed to a shell in a PTY on the agent, over the agent's connection.
//!
//! Query: `session` (the browser's id for this console, kept across reloads so a reconnect
//! within 60 s finds the same shell), `cols`, `rows`. Binary messages carry keystrokes (browser
//! → shell) and output (shell → browser). Text messages are JSON: the browser sends
//! `{"resize":{"cols":120,"rows":40}}`; Base forwards the agent's events:
//! `{"Attached":{"resumed":true,"pid":42}}`, `{"Ended":{"reason":"…"}}`, `{"Refused":{"reason":"…"}}`.
//! RBAC (Admin+), the instance's console switch and `Origin` are checked before the upgrade.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use control::tools::{Console, ConsoleScope};
use control::{Actor, Base};
use futures_util::{SinkExt, StreamExt};
use proto::wire::{ConsoleInput, Record, RecordReader};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{ApiQuery, Authed, Upgrade};
use crate::state::ServerState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsoleQuery {
    session: String,
    #[serde(default = "default_cols")]
    cols: u16,
    #[serde(default = "default_rows")]
    rows: u16,
}

fn default_cols() -> u16 {
    80
}

fn default_rows() -> u16 {
    24
}

/// What the browser may send as text.
#[derive(Deserialize)]
struct BrowserMsg {
    resize: Option<Size>,
}

#[derive(Deserialize)]
struct Size {
    cols: u16,
    rows: u16,
}

#[utoipa::path(
    get, path = "/services/{id}/console", tags = ["console", "websocket"], params(("id" = String, Path, description = "The service's id"), ConsoleQuery),
    responses((status = 101, description = "WebSocket: binary messages are terminal bytes both ways; text messages are JSON (`{\"resize\":{\"cols\",\"rows\"}}` in, the agent's events out)"), (status = 426, description = "See the error body", body = proto::api::ErrorBody), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn of_service(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ConsoleQuery>,
    Upgrade(upgrade): Upgrade,
) -> Result<Response, ApiError> {
    open(state, actor, ConsoleScope::Service(id), q, upgrade).await
}

#[utoipa::path(
    get, path = "/instances/{id}/console", tags = ["console", "websocket"], params(("id" = String, Path, description = "The instance's id"), ConsoleQuery),
    responses((status = 101, description = "WebSocket: binary messages are terminal bytes both ways; text messages are JSON (`{\"resize\":{\"cols\",\"rows\"}}` in, the agent's events out)"), (status = 426, description = "See the error body", body = proto::api::ErrorBody), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn of_instance(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ConsoleQuery>,
    Upgrade(upgrade): Upgrade,
) -> Result<Response, ApiError> {
    open(state, actor, ConsoleScope::Instance(id), q, upgrade).await
}

async fn open(
    state: ServerState,
    actor: Actor,
    scope: ConsoleScope,
    q: ConsoleQuery,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let console = state
        .base
        .open_console(&actor, &scope, &q.session, q.cols, q.rows)
        .await?;
    let base = state.base.clone();
    Ok(upgrade.on_upgrade(move |socket| relay(socket, console, base, actor)))
}

/// Moves bytes both ways until either side ends; the shell itself lingers on the agent.
async fn relay(socket: WebSocket, console: Console, base: Base, actor: Actor) {
    let Console { stream, opened } = console;
    let (mut to_agent, mut from_agent) = stream.split();
    let (mut to_browser, mut from_browser) = socket.split();
    let mut records = RecordReader::default();
    loop {
        tokio::select! {
            msg = from_browser.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    if to_agent.send(&Record::data(&b)).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(t))) => {
                    if let Ok(BrowserMsg { resize: Some(s) }) = serde_json::from_str(t.as_str()) {
                        let input = ConsoleInput::Resize { cols: s.cols, rows: s.rows };
                        if to_agent.send(&Record::json(&input)).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            chunk = from_agent.recv() => match chunk {
                Ok(Some(chunk)) => {
                    records.push(&chunk);
                    let mut sent = true;
                    while let Ok(Some(rec)) = records.next_record() {
                        let msg = match rec {
                            Record::Data(d) => Message::Binary(d.into()),
                            Record::Json(j) => Message::Text(String::from_utf8_lossy(&j).into_owned().into()),
                        };
                        if to_browser.send(msg).await.is_err() {
                            sent = false;
                            break;
                        }
                    }
                    if !sent {
                        break;
                    }
                }
                Ok(None) | Err(_) => {
                    let _ = to_browser.send(Message::Close(None)).await;
                    break;
                }
            },
        }
    }
    let _ = to_agent.close();
    base.console_closed(&actor, &opened).await;
}
