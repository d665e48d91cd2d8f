//! The first messages of a connection, before it is multiplexed, as both ends speak them:
//! dployrd's `Hello`/`Enroll` and Base's `Welcome`/`Enrolled`/`Refused`, one control frame per
//! binary WebSocket message, and the WebSocket limits both ends set.
//!
//! Both ends are equally strict, like the multiplexer that takes over after it: a text message,
//! a malformed frame or a frame for any stream but the control stream ends the handshake with an
//! error (pings and pongs are tungstenite's business and are skipped).

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::frame::{CONTROL_STREAM, Frame, FrameError, MAX_FRAME_BYTES};
use super::msg::{ControlError, decode_control, encode_control};

/// tungstenite zero-fills its whole read buffer before every read, so each idle connection kept
/// the default 128 KiB resident: 1.5 GiB for 10,000 agents (BENCHMARKS.md, "Agent gateway").
/// Control messages are tens of bytes, and a large tunnel frame reserves its full length as soon
/// as its header is read, so a small buffer saves idle memory without slowing large frames.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// The WebSocket limits of both ends: no message or frame over [`MAX_FRAME_BYTES`].
pub fn ws_config() -> WebSocketConfig {
    let mut c = WebSocketConfig::default();
    c.max_message_size = Some(MAX_FRAME_BYTES);
    c.max_frame_size = Some(MAX_FRAME_BYTES);
    c.read_buffer_size = READ_BUFFER_BYTES;
    c
}

/// Why a handshake message could not be sent or received.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("WebSocket: {0}")]
    Ws(Box<WsError>),
    /// A text message (or anything else not binary).
    #[error("text messages are not part of the protocol")]
    NotBinary,
    #[error("malformed frame: {0}")]
    Frame(#[from] FrameError),
    #[error("frame for stream {0} before the connection is multiplexed")]
    NotControl(u32),
    #[error(transparent)]
    Control(#[from] ControlError),
}

impl From<WsError> for HandshakeError {
    fn from(e: WsError) -> Self {
        HandshakeError::Ws(Box::new(e))
    }
}

/// Sends `msg` in one control frame.
pub async fn send<S, M>(ws: &mut WebSocketStream<S>, msg: &M) -> Result<(), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    M: Serialize,
{
    let frame = encode_control(msg)?;
    ws.send(Message::Binary(frame.encode().into())).await?;
    Ok(())
}

/// The next control message; `None` when the peer closed the connection.
pub async fn recv<S, M>(ws: &mut WebSocketStream<S>) -> Result<Option<M>, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    M: DeserializeOwned,
{
    loop {
        let Some(msg) = ws.next().await else {
            return Ok(None);
        };
        match msg? {
            Message::Binary(bytes) => {
                let frame = Frame::decode(&bytes)?;
                if frame.stream_id() != CONTROL_STREAM {
                    return Err(HandshakeError::NotControl(frame.stream_id()));
                }
                return Ok(Some(decode_control(&frame)?));
            }
            Message::Close(_) => return Ok(None),
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Text(_) | Message::Frame(_) => return Err(HandshakeError::NotBinary),
        }
    }
}
