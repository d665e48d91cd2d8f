//! Dialing the gateway: TCP, then TLS pinned to Base's certificate, then a WebSocket; and the
//! helpers that put control messages in frames and take them out.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use proto::wire::{self, AgentMsg, BaseMsg, Frame};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("bad gateway URL {0:?}: use wss://host:port")]
    BadUrl(String),
    #[error("cannot reach {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS handshake with Base failed: {0}")]
    Tls(std::io::Error),
    #[error("WebSocket: {0}")]
    Ws(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("timed out connecting to Base")]
    Timeout,
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("Base refused: {0}")]
    Refused(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for DialError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        DialError::Ws(Box::new(e))
    }
}

fn ws_config() -> WebSocketConfig {
    let mut c = WebSocketConfig::default();
    c.max_message_size = Some(wire::MAX_FRAME_BYTES);
    c.max_frame_size = Some(wire::MAX_FRAME_BYTES);
    // tungstenite zero-fills its whole read buffer (128 KiB by default) before every read; an
    // idle agent reads only tiny control frames (see control::gateway::listener).
    c.read_buffer_size = 4 * 1024;
    c
}

/// `wss://host:port[/path]` -> `host:port`.
pub fn host_port(url: &str) -> Result<String, DialError> {
    let parsed = url::Url::parse(url).map_err(|_| DialError::BadUrl(url.to_string()))?;
    if parsed.scheme() != "wss" {
        return Err(DialError::BadUrl(url.to_string()));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| DialError::BadUrl(url.to_string()))?;
    let port = parsed.port().unwrap_or(443);
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

pub async fn dial(url: &str, tls: Arc<ClientConfig>) -> Result<Ws, DialError> {
    let addr = host_port(url)?;
    tokio::time::timeout(CONNECT_TIMEOUT, async {
        let tcp = TcpStream::connect(&addr)
            .await
            .map_err(|source| DialError::Connect {
                addr: addr.clone(),
                source,
            })?;
        tcp.set_nodelay(true).ok();
        // The pin, not the name, authenticates Base; the name only has to be well-formed.
        let name = ServerName::try_from("dployr-gateway").expect("constant server name is valid");
        let stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(DialError::Tls)?;
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config())).await?;
        Ok(ws)
    })
    .await
    .map_err(|_| DialError::Timeout)?
}

pub async fn send(ws: &mut Ws, msg: &AgentMsg) -> Result<(), DialError> {
    let frame = wire::encode_control(msg).map_err(|e| DialError::Protocol(e.to_string()))?;
    ws.send(Message::Binary(frame.encode().into())).await?;
    Ok(())
}

/// The next control message from Base; `None` when it closed the connection.
pub async fn recv(ws: &mut Ws) -> Result<Option<BaseMsg>, DialError> {
    loop {
        let Some(msg) = ws.next().await else {
            return Ok(None);
        };
        match msg? {
            Message::Binary(bytes) => {
                let frame =
                    Frame::decode(&bytes).map_err(|e| DialError::Protocol(e.to_string()))?;
                return wire::decode_control::<BaseMsg>(&frame)
                    .map(Some)
                    .map_err(|e| DialError::Protocol(e.to_string()));
            }
            Message::Close(_) => return Ok(None),
            _ => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn gateway_urls_must_be_wss_with_a_host() {
        assert_eq!(
            super::host_port("wss://10.0.0.1:8443").unwrap(),
            "10.0.0.1:8443"
        );
        assert_eq!(
            super::host_port("wss://base.example").unwrap(),
            "base.example:443"
        );
        assert!(super::host_port("https://x:1").is_err());
        assert!(super::host_port("nonsense").is_err());
    }
}
