//! The application's side of one stream: a credit-paced byte pipe in each direction.
//!
//! A stream is a byte stream, not a message stream: the sender's writes are split into frames
//! as credit allows and the receiver gets those frames' payloads, so framing of the
//! application's own messages, if it needs any, is its business.
//!
//! Ending a stream: [`StreamWriter::close`] says "no more data from me" and the peer's reader
//! gets `Ok(None)` after the last byte. Dropping a writer without closing it resets the stream,
//! so an interrupted transfer is never mistaken for a complete one.

use std::sync::Arc;

use super::StreamError;
use super::conn::{Conn, Reset, StreamShared, StreamState};
use crate::wire::frame::{Frame, FrameKind, MAX_DATA_BYTES, encode_parts};
use crate::wire::msg::StreamOpen;

/// One multiplexed stream. Use [`MuxStream::split`] to read and write from different tasks.
pub struct MuxStream {
    writer: StreamWriter,
    reader: StreamReader,
    purpose: StreamOpen,
}

/// The sending half of a stream.
pub struct StreamWriter {
    conn: Arc<Conn>,
    shared: Arc<StreamShared>,
}

/// The receiving half of a stream.
pub struct StreamReader {
    conn: Arc<Conn>,
    shared: Arc<StreamShared>,
}

impl MuxStream {
    pub(super) fn new(conn: Arc<Conn>, shared: Arc<StreamShared>, purpose: StreamOpen) -> Self {
        MuxStream {
            writer: StreamWriter {
                conn: conn.clone(),
                shared: shared.clone(),
            },
            reader: StreamReader { conn, shared },
            purpose,
        }
    }

    /// The stream id (even if Base opened it, odd if the agent did).
    pub fn id(&self) -> u32 {
        self.writer.shared.id
    }

    /// What the opener said this stream is for.
    pub fn purpose(&self) -> &StreamOpen {
        &self.purpose
    }

    /// See [`StreamWriter::send`].
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        self.writer.send(bytes).await
    }

    /// See [`StreamReader::recv`].
    pub async fn recv(&mut self) -> Result<Option<Vec<u8>>, StreamError> {
        self.reader.recv().await
    }

    /// The receiving half, borrowed: for code that reads from whole and split streams alike.
    pub fn reader(&mut self) -> &mut StreamReader {
        &mut self.reader
    }

    /// See [`StreamWriter::close`].
    pub fn close(&mut self) -> Result<(), StreamError> {
        self.writer.close()
    }

    /// Aborts the stream both ways; the peer's reads and writes fail with `reason`.
    pub fn reset(self, reason: &str) {
        reset_locally(&self.writer.conn, &self.writer.shared, reason);
    }

    pub fn split(self) -> (StreamWriter, StreamReader) {
        (self.writer, self.reader)
    }
}

impl StreamWriter {
    /// Sends `bytes`, waiting for credit whenever the peer's window is full. Returns once all of
    /// it is queued for the transport.
    pub async fn send(&mut self, mut bytes: &[u8]) -> Result<(), StreamError> {
        while !bytes.is_empty() {
            {
                let mut st = self.shared.lock();
                check_sendable(&self.conn, &st)?;
                let credit = usize::try_from(st.send.available()).unwrap_or(usize::MAX);
                let n = bytes.len().min(credit).min(MAX_DATA_BYTES);
                if n > 0 {
                    let len = u32::try_from(n).expect("n <= MAX_DATA_BYTES, which fits u32");
                    st.send.take(len).expect("n <= available credit");
                    let (chunk, rest) = bytes.split_at(n);
                    self.conn
                        .send_ordered(encode_parts(self.shared.id, FrameKind::Data, chunk));
                    bytes = rest;
                    continue;
                }
            }
            self.shared.writable.notified().await;
        }
        let st = self.shared.lock();
        check_sendable(&self.conn, &st)
    }

    /// Abandons the stream, telling the peer `reason` (its reader gets
    /// [`StreamError::Reset`]); the reading half fails too.
    pub fn reset(self, reason: &str) {
        reset_locally(&self.conn, &self.shared, reason);
    }

    /// No more data from us; the peer reads `Ok(None)` after what we sent. Closing twice is a
    /// no-op.
    pub fn close(&mut self) -> Result<(), StreamError> {
        let mut st = self.shared.lock();
        if st.local_closed {
            return Ok(());
        }
        check_sendable(&self.conn, &st)?;
        st.local_closed = true;
        let frame = Frame::close(self.shared.id, None).expect("stream ids are non-zero");
        self.conn.send_ordered(frame.encode());
        settle(&self.conn, &self.shared, &mut st);
        Ok(())
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        let unfinished = {
            let st = self.shared.lock();
            !st.local_closed && st.reset.is_none()
        };
        if unfinished {
            reset_locally(
                &self.conn,
                &self.shared,
                "stream dropped before it was closed",
            );
        }
    }
}

impl StreamReader {
    /// The next chunk of bytes; `Ok(None)` once the peer has closed and everything it sent has
    /// been read. Data already received is returned even after a reset or a connection loss,
    /// before the error. Reading is what grants the peer more credit.
    pub async fn recv(&mut self) -> Result<Option<Vec<u8>>, StreamError> {
        loop {
            {
                let mut st = self.shared.lock();
                if let Some(chunk) = st.recv_buf.pop_front() {
                    let len = u32::try_from(chunk.len()).expect("a chunk fits its u32 window");
                    grant_back(&self.conn, &self.shared, &mut st, len);
                    return Ok(Some(chunk));
                }
                if st.remote_closed {
                    return Ok(None);
                }
                match &st.reset {
                    Some(Reset::ByPeer(reason)) => return Err(StreamError::Reset(reason.clone())),
                    Some(Reset::Locally(reason)) => {
                        return Err(StreamError::ResetLocally(reason.clone()));
                    }
                    None => {}
                }
                if let Some(reason) = self.conn.closed_reason() {
                    return Err(StreamError::Connection(reason));
                }
            }
            self.shared.readable.notified().await;
        }
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.reader_gone = true;
        let buffered: u32 = st.recv.buffered();
        st.recv_buf.clear();
        grant_back(&self.conn, &self.shared, &mut st, buffered);
        settle(&self.conn, &self.shared, &mut st);
    }
}

fn check_sendable(conn: &Conn, st: &StreamState) -> Result<(), StreamError> {
    match &st.reset {
        Some(Reset::ByPeer(reason)) => return Err(StreamError::Reset(reason.clone())),
        Some(Reset::Locally(reason)) => return Err(StreamError::ResetLocally(reason.clone())),
        None => {}
    }
    if st.local_closed {
        return Err(StreamError::SendClosed);
    }
    match conn.closed_reason() {
        Some(reason) => Err(StreamError::Connection(reason)),
        None => Ok(()),
    }
}

/// Marks `len` received bytes consumed and sends the credit that frees, if any is due and the
/// peer can still use it.
pub(super) fn grant_back(conn: &Conn, shared: &StreamShared, st: &mut StreamState, len: u32) {
    let credit = st.recv.consumed(len);
    if let Some(credit) = credit
        && !st.remote_closed
        && st.reset.is_none()
    {
        let frame = Frame::credit(shared.id, credit).expect("credit is non-zero on a stream");
        conn.send_urgent(frame.encode());
    }
}

/// After a local change: reset a stream nobody will read any more although the peer may still
/// send, and forget a stream that is finished both ways.
fn settle(conn: &Conn, shared: &StreamShared, st: &mut StreamState) {
    if st.reset.is_none() && st.local_closed && st.reader_gone && !st.remote_closed {
        // Ordered behind our Close, so the peer still receives everything we sent.
        st.reset = Some(Reset::Locally("stopped reading".to_owned()));
        let frame = Frame::reset(shared.id, "peer stopped reading").expect("non-zero stream id");
        conn.send_ordered(frame.encode());
    }
    if st.reset.is_some() || (st.local_closed && st.remote_closed) {
        conn.retire(shared.id);
    }
}

fn reset_locally(conn: &Conn, shared: &StreamShared, reason: &str) {
    let mut st = shared.lock();
    if st.reset.is_some() {
        return;
    }
    st.reset = Some(Reset::Locally(reason.to_owned()));
    if conn.closed_reason().is_none() {
        let frame = Frame::reset(shared.id, reason).expect("non-zero stream id");
        conn.send_ordered(frame.encode());
    }
    conn.retire(shared.id);
    drop(st);
    shared.wake_all();
}
