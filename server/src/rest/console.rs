//! `GET /api/v1/services/{id}/console` and `GET /api/v1/instances/{id}/console` (WebSocket):
//! a browser terminal relayed to a shell in a PTY on the agent, over the agent's connection.
//!
//! Query: `session` (the browser's id for this console, kept across reloads so a reconnect
//! within 60 s finds the same shell), `cols`, `rows`. Binary messages carry keystrokes (browser
//! → shell) and output (shell → browser). Text messages are JSON: the browser sends
//! `{"resize":{"cols":120,"rows":40}}`; Base forwards the agent's events:
//! `{"Attached":{"resumed":true,"pid":42}}`, `{"Ended":{"reason":"…"}}`,
//! `{"Refused":{"reason":"…"}}`. RBAC (Admin+), the instance's console switch and `Origin` are
//! checked before the upgrade; all but `Origin` again while it is open, which closes with code 1008
//! and the reason.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path};
use axum::response::Response;
use control::revocation::Access;
use control::tools::{Console, ConsoleScope};
use control::{Actor, Base};
use futures_util::{SinkExt, StreamExt};
use http::request::Parts;
use proto::wire::{ConsoleInput, Record, RecordReader};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiQuery, Caller, Upgrade};
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
    responses((status = 101, description = OPENED), (status = 426, description = "See the error body", body = proto::api::ErrorBody), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn of_service(Path(id): Path<String>, open: Opening) -> ApiResult<Response> {
    open.on(ConsoleScope::Service(id)).await
}

#[utoipa::path(
    get, path = "/instances/{id}/console", tags = ["console", "websocket"], params(("id" = String, Path, description = "The instance's id"), ConsoleQuery),
    responses((status = 101, description = OPENED), (status = 426, description = "See the error body", body = proto::api::ErrorBody), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn of_instance(Path(id): Path<String>, open: Opening) -> ApiResult<Response> {
    open.on(ConsoleScope::Instance(id)).await
}

/// What the 101 answer of either console route carries.
const OPENED: &str = "WebSocket: binary messages are terminal bytes both ways; text messages are JSON (`{\"resize\":{\"cols\",\"rows\"}}` in, the agent's events out)";

/// A console request whatever it is opened on: who asks, the terminal's session and size, and
/// the WebSocket handshake.
pub struct Opening {
    caller: Caller,
    query: ConsoleQuery,
    upgrade: WebSocketUpgrade,
}

impl FromRequestParts<ServerState> for Opening {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> ApiResult<Self> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let ApiQuery(query) = ApiQuery::from_request_parts(parts, state).await?;
        let Upgrade(upgrade) = Upgrade::from_request_parts(parts, state).await?;
        Ok(Opening {
            caller,
            query,
            upgrade,
        })
    }
}

impl Opening {
    /// Opens (or resumes) the shell on the agent, then upgrades and relays.
    async fn on(self, scope: ConsoleScope) -> ApiResult<Response> {
        let Opening {
            caller: Caller(base, actor),
            query: q,
            upgrade,
        } = self;
        let console = base
            .open_console(&actor, &scope, &q.session, q.cols, q.rows)
            .await?;
        Ok(upgrade.on_upgrade(move |socket| relay(socket, console, base, actor, scope)))
    }
}

/// Moves bytes both ways until either side ends, or until the actor may no longer hold this
/// console (M1: session or token ended, demoted or removed, the instance's console switched
/// off), which closes the socket with the reason. The shell itself lingers on the agent, and
/// reattaching to it is checked like opening.
async fn relay(socket: WebSocket, console: Console, base: Base, actor: Actor, scope: ConsoleScope) {
    let Console { stream, opened } = console;
    let revoked = base.until_revoked(actor.clone(), Access::Console(scope));
    tokio::pin!(revoked);
    let (mut to_agent, mut from_agent) = stream.split();
    let (mut to_browser, mut from_browser) = socket.split();
    let mut records = RecordReader::default();
    loop {
        tokio::select! {
            reason = &mut revoked => {
                let _ = to_browser.send(super::live::close(&reason.to_string())).await;
                break;
            }
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
