//! State shared by the handles and the two I/O tasks of one connection: the stream table, the
//! writer's queues and the close reason.
//!
//! Lock order, to rule out deadlock: a stream's state lock may be held while taking the table
//! lock or reading the close reason, never the other way round. No lock is held across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc, watch};

use super::{MAX_STREAMS, MuxError, StreamError};
use crate::wire::frame::{Frame, Side};
use crate::wire::msg::StreamOpen;
use crate::wire::window::{INITIAL_WINDOW, RecvWindow, SendWindow};

/// What the writer task sends, in queue order.
pub(super) enum Outgoing {
    Frame(Vec<u8>),
    /// Flush what came before, then close the transport.
    Shutdown,
}

pub(super) struct Conn {
    pub(super) side: Side,
    /// Frames whose order matters: control, Open, Data, Close, and Resets that must follow the
    /// stream's data. Unbounded because what bounds it is elsewhere: Data by credit windows and
    /// [`MAX_STREAMS`], control by the owner.
    ordered: mpsc::UnboundedSender<Outgoing>,
    /// Credit and the reader's refusals: small, and sent ahead of queued data so a busy stream
    /// does not delay credit the peer is waiting for.
    urgent: mpsc::UnboundedSender<Vec<u8>>,
    closed: watch::Sender<Option<MuxError>>,
    table: Mutex<Table>,
}

struct Table {
    streams: HashMap<u32, Arc<StreamShared>>,
    /// The id our next stream gets; `None` once ids run out.
    next_local: Option<u32>,
    /// The highest id the peer has opened (0: none yet). Peer ids must increase, so any id at or
    /// below it was used and any above it was never opened.
    peer_max: u32,
    closed: bool,
}

/// Where a stream id stands, for routing a frame.
pub(super) enum Lookup {
    Live(Arc<StreamShared>),
    /// Used and finished: late frames (racing a reset) are dropped.
    Retired,
    /// Never opened: a frame for it is a protocol error.
    Idle,
}

/// One stream's state, shared by its handle halves and the reader task.
pub(super) struct StreamShared {
    pub(super) id: u32,
    state: Mutex<StreamState>,
    /// Signalled when data, a Close or a Reset arrives, or the connection closes.
    pub(super) readable: Notify,
    /// Signalled when credit or a Reset arrives, or the connection closes.
    pub(super) writable: Notify,
}

pub(super) struct StreamState {
    pub(super) recv_buf: VecDeque<Vec<u8>>,
    pub(super) recv: RecvWindow,
    pub(super) send: SendWindow,
    /// We sent Close.
    pub(super) local_closed: bool,
    /// The peer sent Close.
    pub(super) remote_closed: bool,
    pub(super) reset: Option<Reset>,
    /// Our reading half is gone: arriving data is discarded and credited straight back.
    pub(super) reader_gone: bool,
}

#[derive(Clone)]
pub(super) enum Reset {
    ByPeer(String),
    Locally(String),
}

impl StreamShared {
    fn new(id: u32) -> StreamShared {
        StreamShared {
            id,
            state: Mutex::new(StreamState {
                recv_buf: VecDeque::new(),
                recv: RecvWindow::new(INITIAL_WINDOW),
                send: SendWindow::new(INITIAL_WINDOW),
                local_closed: false,
                remote_closed: false,
                reset: None,
                reader_gone: false,
            }),
            readable: Notify::new(),
            writable: Notify::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, StreamState> {
        // A panic while holding this lock leaves only counters and a buffer, which stay usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn wake_all(&self) {
        self.readable.notify_one();
        self.writable.notify_one();
    }
}

impl Conn {
    pub(super) fn new(
        side: Side,
        ordered: mpsc::UnboundedSender<Outgoing>,
        urgent: mpsc::UnboundedSender<Vec<u8>>,
    ) -> Conn {
        Conn {
            side,
            ordered,
            urgent,
            closed: watch::Sender::new(None),
            table: Mutex::new(Table {
                streams: HashMap::new(),
                next_local: Some(side.first_stream_id()),
                peer_max: 0,
                closed: false,
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn closed_reason(&self) -> Option<MuxError> {
        self.closed.borrow().clone()
    }

    pub(super) fn subscribe_closed(&self) -> watch::Receiver<Option<MuxError>> {
        self.closed.subscribe()
    }

    // A failed send means the writer task has ended, which only happens once the connection is
    // closed; every handle then reports the close reason, so the frame is moot.
    pub(super) fn send_ordered(&self, frame: Vec<u8>) {
        let _ = self.ordered.send(Outgoing::Frame(frame));
    }

    pub(super) fn send_urgent(&self, frame: Vec<u8>) {
        let _ = self.urgent.send(frame);
    }

    pub(super) fn shutdown(&self) {
        let _ = self.ordered.send(Outgoing::Shutdown);
    }

    /// Closes the connection for `reason` unless it is already closed, and wakes every stream
    /// so its waiters see the reason.
    pub(super) fn fail(&self, reason: MuxError) {
        let first = self.closed.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(reason);
            }
            first
        });
        if !first {
            return;
        }
        let streams = {
            let mut table = self.table();
            table.closed = true;
            std::mem::take(&mut table.streams)
        };
        for stream in streams.values() {
            stream.wake_all();
        }
    }

    /// Allocates our next stream id and queues its Open frame.
    pub(super) fn open_local(&self, open: &StreamOpen) -> Result<Arc<StreamShared>, StreamError> {
        let mut table = self.table();
        if table.closed {
            let reason = self.closed_reason().unwrap_or(MuxError::Closed);
            return Err(StreamError::Connection(reason));
        }
        let live = table
            .streams
            .keys()
            .filter(|id| self.side.opens(**id))
            .count();
        if live >= MAX_STREAMS {
            return Err(StreamError::TooManyStreams);
        }
        let id = table.next_local.ok_or(StreamError::IdsExhausted)?;
        table.next_local = id.checked_add(2);
        let frame = Frame::open(id, open).expect("our id is non-zero and StreamOpen is small");
        // Queued under the table lock so Open frames leave in id order, as the peer requires.
        self.send_ordered(frame.encode());
        let shared = Arc::new(StreamShared::new(id));
        table.streams.insert(id, shared.clone());
        Ok(shared)
    }

    /// Registers a stream the peer opened. `Ok(None)`: the id is valid but the stream is
    /// refused (too many open); the caller resets it.
    pub(super) fn open_remote(&self, id: u32) -> Result<Option<Arc<StreamShared>>, MuxError> {
        let mut table = self.table();
        if !self.side.peer().opens(id) || id <= table.peer_max {
            return Err(MuxError::BadOpen { stream_id: id });
        }
        table.peer_max = id;
        let live = table
            .streams
            .keys()
            .filter(|id| !self.side.opens(**id))
            .count();
        if table.closed || live >= MAX_STREAMS {
            return Ok(None);
        }
        let shared = Arc::new(StreamShared::new(id));
        table.streams.insert(id, shared.clone());
        Ok(Some(shared))
    }

    pub(super) fn lookup(&self, id: u32) -> Lookup {
        let table = self.table();
        if let Some(stream) = table.streams.get(&id) {
            return Lookup::Live(stream.clone());
        }
        let used = if self.side.opens(id) {
            table.next_local.is_none_or(|next| id < next)
        } else {
            id <= table.peer_max
        };
        if used { Lookup::Retired } else { Lookup::Idle }
    }

    /// Forgets a finished stream; later frames for it are dropped as [`Lookup::Retired`].
    pub(super) fn retire(&self, id: u32) {
        self.table().streams.remove(&id);
    }
}
