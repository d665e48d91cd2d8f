//! The two tasks that own the transport: the writer serialises frames, the reader dispatches
//! them. The reader awaits nothing but the transport (see the module doc of `mux`).

use std::fmt::Display;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::{mpsc, watch};

use super::MuxError;
use super::conn::{Conn, Lookup, Outgoing, Reset, StreamShared};
use super::stream::{MuxStream, grant_back};
use crate::wire::frame::{CONTROL_STREAM, Frame, FrameKind};
use crate::wire::msg::StreamOpen;

/// How long the writer tries to tell the peer why we are closing before it gives up: the peer
/// may be the reason the transport is stuck.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// Frames written between flushes, so a long queue still reaches the peer steadily.
const MAX_BATCH: usize = 64;

/// Resolves with the close reason once there is one.
pub(super) async fn wait_closed(closed: &mut watch::Receiver<Option<MuxError>>) -> MuxError {
    loop {
        let current = closed.borrow_and_update().clone();
        if let Some(reason) = current {
            return reason;
        }
        if closed.changed().await.is_err() {
            // The sender lives in `Conn`, which the caller holds; kept total anyway.
            return MuxError::Closed;
        }
    }
}

pub(super) async fn write_loop<Si>(
    conn: Arc<Conn>,
    sink: Si,
    mut ordered: mpsc::UnboundedReceiver<Outgoing>,
    mut urgent: mpsc::UnboundedReceiver<Vec<u8>>,
) where
    Si: Sink<Vec<u8>>,
    Si::Error: Display,
{
    let mut sink = pin!(sink);
    let mut closed = conn.subscribe_closed();
    let reason = loop {
        let first = tokio::select! {
            biased;
            reason = wait_closed(&mut closed) => break reason,
            Some(frame) = urgent.recv() => Outgoing::Frame(frame),
            Some(out) = ordered.recv() => out,
            else => break MuxError::Closed,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match urgent
                .try_recv()
                .map(Outgoing::Frame)
                .or_else(|_| ordered.try_recv())
            {
                Ok(out) => batch.push(out),
                Err(_) => break,
            }
        }
        let mut shutdown = false;
        let written = async {
            for out in batch {
                match out {
                    Outgoing::Frame(bytes) => sink.feed(bytes).await?,
                    Outgoing::Shutdown => {
                        shutdown = true;
                        break;
                    }
                }
            }
            sink.flush().await
        };
        let result = tokio::select! {
            biased;
            reason = wait_closed(&mut closed) => break reason,
            result = written => result,
        };
        if let Err(e) = result {
            conn.fail(MuxError::Transport(e.to_string()));
        } else if shutdown {
            conn.fail(MuxError::Closed);
        }
    };
    if reason.tells_peer() {
        let goodbye = Frame::reset(CONTROL_STREAM, &reason.to_string())
            .expect("a Reset on stream 0 is valid")
            .encode();
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, sink.send(goodbye)).await;
    }
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, sink.close()).await;
}

pub(super) async fn read_loop<St, E>(
    conn: Arc<Conn>,
    stream: St,
    control: mpsc::Sender<Frame>,
    incoming: mpsc::Sender<MuxStream>,
) where
    St: Stream<Item = Result<Vec<u8>, E>>,
    E: Display,
{
    let mut stream = pin!(stream);
    let mut closed = conn.subscribe_closed();
    loop {
        let next = tokio::select! {
            biased;
            _ = wait_closed(&mut closed) => return,
            next = stream.next() => next,
        };
        let result = match next {
            None => Err(MuxError::TransportEnded),
            Some(Err(e)) => Err(MuxError::Transport(e.to_string())),
            Some(Ok(bytes)) => dispatch(&conn, &control, &incoming, &bytes),
        };
        if let Err(reason) = result {
            conn.fail(reason);
            return;
        }
    }
}

/// Handles one frame from the peer. An error is a protocol violation that closes the connection.
fn dispatch(
    conn: &Arc<Conn>,
    control: &mpsc::Sender<Frame>,
    incoming: &mpsc::Sender<MuxStream>,
    bytes: &[u8],
) -> Result<(), MuxError> {
    let frame = Frame::decode(bytes)?;
    let id = frame.stream_id();
    match frame.kind() {
        FrameKind::Control => match control.try_send(frame) {
            Err(mpsc::error::TrySendError::Full(_)) => Err(MuxError::ControlBacklog),
            // No one is listening for control any more: the owner chose to ignore it.
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
        },
        FrameKind::Reset if id == CONTROL_STREAM => Err(MuxError::PeerAborted(
            frame.reason().unwrap_or("no reason given").to_owned(),
        )),
        FrameKind::Open => {
            on_open(conn, incoming, id, frame.payload())?;
            Ok(())
        }
        kind => match conn.lookup(id) {
            Lookup::Live(stream) => on_stream_frame(conn, &stream, &frame),
            Lookup::Retired => Ok(()),
            Lookup::Idle => Err(MuxError::UnknownStream {
                stream_id: id,
                kind,
            }),
        },
    }
}

fn on_open(
    conn: &Arc<Conn>,
    incoming: &mpsc::Sender<MuxStream>,
    id: u32,
    payload: &[u8],
) -> Result<(), MuxError> {
    let refuse = |reason: &str| {
        let frame = Frame::reset(id, reason).expect("an Open frame's id is non-zero");
        conn.send_urgent(frame.encode());
    };
    let Some(shared) = conn.open_remote(id)? else {
        refuse("too many open streams");
        return Ok(());
    };
    // An unknown purpose is likely a newer peer: refuse that stream, keep the connection.
    let Ok(purpose) = serde_json::from_slice::<StreamOpen>(payload) else {
        conn.retire(id);
        refuse("unsupported stream type");
        return Ok(());
    };
    if let Err(refused) = incoming.try_send(MuxStream::new(conn.clone(), shared, purpose)) {
        let reason = match refused {
            mpsc::error::TrySendError::Full(_) => "too many streams waiting to be accepted",
            mpsc::error::TrySendError::Closed(_) => "not accepting streams",
        };
        refused.into_inner().reset(reason);
    }
    Ok(())
}

fn on_stream_frame(conn: &Conn, stream: &StreamShared, frame: &Frame) -> Result<(), MuxError> {
    let id = stream.id;
    let mut st = stream.lock();
    match frame.kind() {
        FrameKind::Data | FrameKind::Close if st.remote_closed => Err(MuxError::AfterClose {
            stream_id: id,
            kind: frame.kind(),
        }),
        FrameKind::Data => {
            let len = u32::try_from(frame.payload().len()).expect("a frame is under 1 MiB");
            st.recv.on_data(len).map_err(|window| MuxError::Overrun {
                stream_id: id,
                window,
            })?;
            if st.reader_gone {
                grant_back(conn, stream, &mut st, len);
            } else if len > 0 {
                st.recv_buf.push_back(frame.payload().to_vec());
                stream.readable.notify_one();
            }
            Ok(())
        }
        FrameKind::Credit => {
            let grant = frame.credit_bytes().expect("a Credit frame carries credit");
            st.send
                .grant(grant)
                .map_err(|window| MuxError::CreditOverflow {
                    stream_id: id,
                    window,
                })?;
            stream.writable.notify_one();
            Ok(())
        }
        FrameKind::Close => {
            st.remote_closed = true;
            if st.local_closed {
                conn.retire(id);
            }
            stream.readable.notify_one();
            Ok(())
        }
        FrameKind::Reset => {
            let reason = frame.reason().unwrap_or("no reason given").to_owned();
            st.reset = Some(Reset::ByPeer(reason));
            conn.retire(id);
            drop(st);
            stream.wake_all();
            Ok(())
        }
        FrameKind::Control | FrameKind::Open => {
            unreachable!("dispatch routes Control and Open frames before stream lookup")
        }
    }
}
