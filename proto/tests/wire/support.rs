//! In-memory transports for the multiplexer tests: bounded tokio channels adapted to the
//! `Sink`/`Stream` pair `Mux::new` takes, and a raw peer that speaks frames by hand.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use futures_util::{Sink, Stream};
use proto::wire::mux::{ControlReceiver, Incoming, Mux, MuxError};
use proto::wire::{Frame, Side};
use tokio::sync::mpsc;

/// Room for a few messages per direction, so the transport pushes back like a socket does.
const PIPE_MESSAGES: usize = 8;
/// Upper bound for anything a test waits on: generous for a loaded 2-core debug build, yet a
/// hang still fails in seconds instead of stalling the suite.
pub const DEADLINE: Duration = Duration::from_secs(10);

pub struct End {
    pub mux: Mux,
    pub control: ControlReceiver,
    pub incoming: Incoming,
}

fn sink(tx: mpsc::Sender<Vec<u8>>) -> impl Sink<Vec<u8>, Error = String> + Send + 'static {
    futures_util::sink::unfold(tx, |tx, bytes: Vec<u8>| async move {
        tx.send(bytes).await.map_err(|_| "pipe closed".to_owned())?;
        Ok(tx)
    })
}

fn stream(
    rx: mpsc::Receiver<Vec<u8>>,
) -> impl Stream<Item = Result<Vec<u8>, Infallible>> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|bytes| (Ok(bytes), rx))
    })
}

fn start(side: Side, tx: mpsc::Sender<Vec<u8>>, rx: mpsc::Receiver<Vec<u8>>) -> End {
    let (mux, control, incoming) = Mux::new(sink(tx), stream(rx), side);
    End {
        mux,
        control,
        incoming,
    }
}

/// Base and an agent connected to each other.
pub fn connected() -> (End, End) {
    let (base_tx, agent_rx) = mpsc::channel(PIPE_MESSAGES);
    let (agent_tx, base_rx) = mpsc::channel(PIPE_MESSAGES);
    (
        start(Side::Base, base_tx, base_rx),
        start(Side::Agent, agent_tx, agent_rx),
    )
}

/// The test's side of a connection whose other end is a real `Mux`.
pub struct RawPeer {
    pub tx: mpsc::Sender<Vec<u8>>,
    pub rx: mpsc::Receiver<Vec<u8>>,
}

impl RawPeer {
    pub async fn send_bytes(&self, bytes: Vec<u8>) {
        self.tx
            .send(bytes)
            .await
            .expect("the mux reads until it fails");
    }

    pub async fn send(&self, frame: Frame) {
        self.send_bytes(frame.encode()).await;
    }

    /// The next frame the mux sent, skipping those `skip` says to.
    pub async fn next_frame(&mut self, skip: impl Fn(&Frame) -> bool) -> Option<Frame> {
        loop {
            let bytes = within(self.rx.recv()).await?;
            let frame = Frame::decode(&bytes).expect("the mux sends valid frames");
            if !skip(&frame) {
                return Some(frame);
            }
        }
    }
}

/// A `Mux` on `side` whose peer is driven by hand.
pub fn with_raw_peer(side: Side) -> (End, RawPeer) {
    let (mux_tx, peer_rx) = mpsc::channel(PIPE_MESSAGES);
    let (peer_tx, mux_rx) = mpsc::channel(PIPE_MESSAGES);
    (
        start(side, mux_tx, mux_rx),
        RawPeer {
            tx: peer_tx,
            rx: peer_rx,
        },
    )
}

/// Awaits `fut`, failing the test if it takes longer than [`DEADLINE`].
pub async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .expect("condition not met within the deadline")
}

/// The reason the connection of `mux` closed, waited for with a deadline.
pub async fn closed(mux: &Mux) -> MuxError {
    within(mux.closed()).await
}
