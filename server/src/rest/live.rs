//! The shared loop behind the dashboard's live views of services and deployments: send a fresh
//! snapshot at once and again after every change `control` announces, re-reading it through the
//! same authorized domain call each time, so a member who loses access stops receiving at the
//! next change. Nobody polls; a burst of changes coalesces into one read (a `watch` keeps only
//! the latest value), and a snapshot equal to the last one sent is not sent again (L5: another
//! cluster's activity must not show here). The view also closes, with the reason, as soon as
//! the session or token behind it ends or its access is taken away (M1), without waiting for a
//! change.

use std::future::Future;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, close_code};
use control::DomainError;
use serde::Serialize;
use tokio::sync::watch;

/// Pushes `read()` as JSON text now and after every change until the socket closes, the client
/// goes away, `read` fails (for instance because the member was removed or the service
/// deleted) or `revoked` resolves.
pub async fn push_on_change<T, E, F, Fut>(
    mut socket: WebSocket,
    mut changes: watch::Receiver<u64>,
    revoked: impl Future<Output = DomainError>,
    view: &'static str,
    mut read: F,
) where
    T: Serialize,
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    tokio::pin!(revoked);
    let mut last = String::new();
    loop {
        let snapshot = match read().await {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(error = %e, view, "live view closed");
                let _ = socket.send(close(&e.to_string())).await;
                break;
            }
        };
        let Ok(text) = serde_json::to_string(&snapshot) else {
            break;
        };
        if text != last {
            if socket
                .send(WsMessage::Text(text.clone().into()))
                .await
                .is_err()
            {
                break;
            }
            last = text;
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { break },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            reason = &mut revoked => {
                tracing::info!(reason = %reason, view, "live view closed: access ended");
                let _ = socket.send(close(&reason.to_string())).await;
                break;
            }
        }
    }
}

/// A close frame saying why (policy violation: access ended), its reason cut to the 123 bytes a
/// close frame may carry.
pub fn close(reason: &str) -> WsMessage {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    WsMessage::Close(Some(CloseFrame {
        code: close_code::POLICY,
        reason: reason[..end].to_string().into(),
    }))
}
