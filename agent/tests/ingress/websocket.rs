//! The WebSocket tests' two ends: an echo release (tungstenite, HTTP/1.1, one connection) and
//! the exchange every test makes through the ingress, a text message and a 200 KB binary one
//! each echoed back unchanged, then a close.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Callback, NoCallback};

/// An echo release for one WebSocket; `check` sees (and may answer) its handshake.
pub async fn echo_release_with<C: Callback + Unpin + Send + 'static>(check: C) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_hdr_async(stream, check)
            .await
            .unwrap();
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_text() || msg.is_binary() {
                ws.send(msg).await.unwrap();
            }
        }
    });
    addr
}

pub async fn echo_release() -> SocketAddr {
    echo_release_with(NoCallback).await
}

/// Sends a text and a 200 KB binary message, expects each back, and closes.
pub async fn echo_both_ways<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) {
    let blob: Vec<u8> = (0u32..200_000).map(|i| (i % 251) as u8).collect();
    for msg in [Message::text("hello"), Message::binary(blob)] {
        ws.send(msg.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), msg);
    }
    ws.close(None).await.unwrap();
}
