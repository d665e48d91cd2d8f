//! The two halves of a relayed stream: the header that names the agent (the first line a
//! replica writes on a stream it opens to the holder), and the pump that joins the stream from
//! the peer to the one to the agent. The pump moves one chunk at a time and reads the next only
//! once the previous is sent, so each side's credit window holds back the other: a slow browser
//! slows the agent, and a slow agent the browser, as when the stream is not relayed. A close
//! closes the other side; a reset resets it with the same reason, so a refusal the agent sends
//! (console off, path outside the service) reaches the browser word for word.

use proto::wire::{MuxStream, StreamError, StreamReader, StreamWriter};
use serde::{Deserialize, Serialize};

/// The longest header accepted.
const MAX_HEADER: usize = 1024;

/// What the opening replica says before the stream's own bytes.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Header {
    pub instance: String,
}

impl Header {
    pub(crate) fn line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).expect("headers serialize");
        line.push(b'\n');
        line
    }
}

/// Reads the header off `stream`; what came after it in the same chunk is returned to be
/// passed on first.
pub(crate) async fn read_header(stream: &mut MuxStream) -> Result<(Header, Vec<u8>), String> {
    let mut got = Vec::new();
    loop {
        match stream.recv().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return Err("stream closed before its header".into()),
            Err(e) => return Err(e.to_string()),
        }
        if let Some(end) = got.iter().position(|b| *b == b'\n') {
            let header = serde_json::from_slice(&got[..end]).map_err(|e| e.to_string())?;
            return Ok((header, got.split_off(end + 1)));
        }
        if got.len() > MAX_HEADER {
            return Err("header too long".into());
        }
    }
}

/// Joins `peer` and `agent` until both directions have ended; `first` goes to the agent before
/// anything else from the peer.
pub(crate) async fn join(peer: MuxStream, agent: MuxStream, first: Vec<u8>) {
    let (peer_w, peer_r) = peer.split();
    let (mut agent_w, agent_r) = agent.split();
    if !first.is_empty() && agent_w.send(&first).await.is_err() {
        // The agent's side ended already; its reader says why, and the pump below passes it on.
    }
    tokio::join!(pump(peer_r, agent_w), pump(agent_r, peer_w));
}

async fn pump(mut from: StreamReader, mut to: StreamWriter) {
    loop {
        match from.recv().await {
            Ok(Some(chunk)) => {
                if to.send(&chunk).await.is_err() {
                    return;
                }
            }
            Ok(None) => {
                let _ = to.close();
                return;
            }
            Err(StreamError::Reset(reason) | StreamError::ResetLocally(reason)) => {
                to.reset(&reason);
                return;
            }
            Err(e) => {
                to.reset(&e.to_string());
                return;
            }
        }
    }
}
