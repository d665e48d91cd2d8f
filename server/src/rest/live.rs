//! The shared loop behind the dashboard's live views of services and deployments: send a fresh
//! snapshot at once and again after every change `control` announces, re-reading it through the
//! same authorized domain call each time, so a member who loses access stops receiving at the
//! next change. Nobody polls; a burst of changes coalesces into one read (a `watch` keeps only
//! the latest value).

use std::future::Future;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use serde::Serialize;
use tokio::sync::watch;

/// Pushes `read()` as JSON text now and after every change until the socket closes, the client
/// goes away or `read` fails (for instance because the member was removed or the service
/// deleted).
pub async fn push_on_change<T, E, F, Fut>(
    mut socket: WebSocket,
    mut changes: watch::Receiver<u64>,
    view: &'static str,
    mut read: F,
) where
    T: Serialize,
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    loop {
        let snapshot = match read().await {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(error = %e, view, "live view closed");
                break;
            }
        };
        let Ok(text) = serde_json::to_string(&snapshot) else {
            break;
        };
        if socket.send(WsMessage::Text(text.into())).await.is_err() {
            break;
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { break },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
