//! Dialing the gateway: TCP, then TLS pinned to Base's certificate, then a WebSocket; and the
//! handshake messages before the connection is multiplexed ([`proto::wire::handshake`], the
//! same code and the same strictness as the gateway's).

use std::sync::Arc;
use std::time::Duration;

use proto::wire::handshake::{self, HandshakeError};
use proto::wire::{AgentMsg, BaseMsg, ControlError, MuxError, StreamError};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection to Base failed or ended.
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
    #[error("TLS setup: {0}")]
    TlsConfig(#[from] rustls::Error),
    #[error("the agent's key, certificate or enrollment file: {0}")]
    Files(std::io::Error),
    #[error("WebSocket: {0}")]
    Ws(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("timed out connecting to Base")]
    Timeout,
    #[error("protocol: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("protocol: expected {expected}, got {got}")]
    Unexpected { expected: &'static str, got: String },
    #[error("protocol: {0}")]
    Control(#[from] ControlError),
    #[error("Base refused: {0}")]
    Refused(String),
    #[error("Base went silent")]
    Silent,
    #[error("tunnel: {0}")]
    Tunnel(#[from] MuxError),
    #[error("tunnel: {0}")]
    Stream(#[from] StreamError),
}

impl From<tokio_tungstenite::tungstenite::Error> for DialError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        DialError::Ws(Box::new(e))
    }
}

impl DialError {
    /// The answer Base gave instead of the one expected (`None`: it closed the connection).
    pub fn unexpected(expected: &'static str, got: Option<BaseMsg>) -> DialError {
        match got {
            Some(BaseMsg::Refused { reason }) => DialError::Refused(reason),
            Some(other) => DialError::Unexpected {
                expected,
                got: format!("{other:?}"),
            },
            None => DialError::Unexpected {
                expected,
                got: "the connection closed".into(),
            },
        }
    }
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
        let config = Some(handshake::ws_config());
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, config).await?;
        Ok(ws)
    })
    .await
    .map_err(|_| DialError::Timeout)?
}

/// Dials Base and says `hello`; once Base answers `Welcome`, the connection and the heartbeat
/// period Base asked for.
pub async fn greet(
    url: &str,
    tls: Arc<ClientConfig>,
    hello: &AgentMsg,
) -> Result<(Ws, Duration), DialError> {
    let mut ws = dial(url, tls).await?;
    send(&mut ws, hello).await?;
    match recv(&mut ws).await? {
        Some(BaseMsg::Welcome { heartbeat_secs, .. }) => {
            Ok((ws, Duration::from_secs(u64::from(heartbeat_secs.max(1)))))
        }
        other => Err(DialError::unexpected("Welcome", other)),
    }
}

pub async fn send(ws: &mut Ws, msg: &AgentMsg) -> Result<(), DialError> {
    Ok(handshake::send(ws, msg).await?)
}

/// The next control message from Base; `None` when it closed the connection.
pub async fn recv(ws: &mut Ws) -> Result<Option<BaseMsg>, DialError> {
    Ok(handshake::recv(ws).await?)
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
