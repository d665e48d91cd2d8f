//! How an agent connection ended ([`ConnError`]), logged once by the gateway's accept loop: one
//! type for every way a socket can fail, from the TLS handshake to a revoked session.

use proto::wire::handshake::HandshakeError;
use proto::wire::{ControlError, MuxError, StreamError};

use crate::DomainError;

/// Why a connection ended; logged once by the accept loop.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("handshake timed out")]
    Timeout,
    #[error("TLS: {0}")]
    Tls(std::io::Error),
    #[error("no client certificate")]
    NoCertificate,
    #[error("WebSocket: {0}")]
    Ws(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("protocol: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("protocol: {0}")]
    Control(#[from] ControlError),
    #[error("tunnel: {0}")]
    Stream(StreamError),
    #[error("refused: {0}")]
    Refused(String),
    #[error("agent went silent")]
    Silent,
    #[error("revoked or replaced")]
    Killed,
    #[error("tunnel: {0}")]
    Tunnel(MuxError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<tokio_tungstenite::tungstenite::Error> for ConnError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        ConnError::Ws(Box::new(e))
    }
}

impl From<StreamError> for ConnError {
    fn from(e: StreamError) -> Self {
        match e {
            StreamError::Connection(reason) => ConnError::Tunnel(reason),
            other => ConnError::Stream(other),
        }
    }
}
