//! The multiplexer over a tokio-tungstenite WebSocket, the transport both Base's gateway and
//! dployrd use: one binary message per frame. Pings and pongs stay tungstenite's business (it
//! answers pings itself); a text message is a protocol violation that closes the connection.

use futures_util::{SinkExt, StreamExt, future};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::{ControlReceiver, Incoming, Mux};
use crate::wire::frame::Side;

/// What the WebSocket delivered instead of a frame.
#[derive(Debug, thiserror::Error)]
pub enum WsTransportError {
    #[error("WebSocket: {0}")]
    Ws(#[from] WsError),
    #[error("text messages are not part of the protocol")]
    Text,
}

/// Hands `ws` to a new [`Mux`] (see [`Mux::new`]). Whatever was read from `ws` before stays read;
/// what the peer sent after it is the multiplexer's.
pub fn over_websocket<S>(ws: WebSocketStream<S>, side: Side) -> (Mux, ControlReceiver, Incoming)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let sink = sink.with(|bytes: Vec<u8>| future::ready(Ok::<_, WsError>(Message::binary(bytes))));
    let stream = stream.filter_map(|msg| {
        future::ready(match msg {
            Ok(Message::Binary(bytes)) => Some(Ok(bytes.to_vec())),
            Ok(Message::Text(_)) => Some(Err(WsTransportError::Text)),
            // A Close ends the stream right after it, which the reader reports as the end.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_)) => None,
            Err(e) => Some(Err(WsTransportError::Ws(e))),
        })
    });
    Mux::new(sink, stream, side)
}
