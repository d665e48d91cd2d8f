//! Binary framing: one WebSocket binary message is exactly one frame,
//! `[stream_id: u32 BE][kind: u8][payload]`.
//!
//! WebSocket already delimits messages, so a frame needs no length prefix; what it adds is the
//! stream id that lets logs, PTY bytes and file transfers share one connection, and the kind that
//! drives each stream's lifecycle and credit. Every [`Frame`] value obeys the same rules
//! [`Frame::decode`] enforces (constructors check them too), so `decode(encode(f)) == f` always
//! holds and code holding a `Frame` never re-validates it.
//!
//! Stream ids: 0 is the control stream, open for the whole connection. Base opens even ids
//! (2, 4, …) and the agent odd ids (1, 3, …), so either side can open a stream without asking
//! and without colliding; see [`Side`]. Ids are never reused within a connection.

use std::fmt;

/// Bytes before the payload: stream id (4) and kind (1).
pub const HEADER_BYTES: usize = 5;
/// Largest frame, header included. Bounds what one message costs the receiver before it has
/// looked at it; large transfers are split across frames and paced by credit.
pub const MAX_FRAME_BYTES: usize = 1 << 20;
/// Largest data payload one frame can carry.
pub const MAX_DATA_BYTES: usize = MAX_FRAME_BYTES - HEADER_BYTES;
/// Largest JSON payload (control message or [`StreamOpen`](super::StreamOpen)). Control
/// messages are small; a bigger one is a bug or an attack, and the control stream has no credit
/// window to pace it.
pub const MAX_CONTROL_BYTES: usize = 64 * 1024;
/// Largest `Close`/`Reset` reason. Reasons are for logs; constructors truncate longer ones.
pub const MAX_REASON_BYTES: usize = 1024;
/// The control stream.
pub const CONTROL_STREAM: u32 = 0;

/// What a frame does. The discriminant is the byte on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameKind {
    /// One JSON control message ([`AgentMsg`](super::AgentMsg) or [`BaseMsg`](super::BaseMsg));
    /// only on stream 0.
    Control = 0,
    /// Opens a new stream; payload is a JSON [`StreamOpen`](super::StreamOpen).
    Open = 1,
    /// Stream bytes; counted against the receiver's credit window.
    Data = 2,
    /// Payload is a non-zero u32 BE: more bytes the sender of this frame is ready to receive.
    Credit = 3,
    /// The sender will send no more data on this stream; optional UTF-8 reason.
    Close = 4,
    /// Abort the stream in both directions, UTF-8 reason. On stream 0: the sender is dropping
    /// the whole connection, and the reason says why.
    Reset = 5,
}

impl FrameKind {
    /// Every kind, in wire order.
    pub const ALL: [FrameKind; 6] = [
        FrameKind::Control,
        FrameKind::Open,
        FrameKind::Data,
        FrameKind::Credit,
        FrameKind::Close,
        FrameKind::Reset,
    ];

    /// The kind for a wire byte, if it is one.
    pub fn from_byte(byte: u8) -> Option<FrameKind> {
        FrameKind::ALL.get(usize::from(byte)).copied()
    }
}

impl fmt::Display for FrameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Which end of the tunnel we are. Decides stream-id parity so both ends can open streams
/// without coordinating. (Not called `Role`: that name is a cluster member's role in `api`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The control plane: opens even stream ids, 2 and up.
    Base,
    /// dployrd: opens odd stream ids, 1 and up.
    Agent,
}

impl Side {
    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Base => Side::Agent,
            Side::Agent => Side::Base,
        }
    }

    /// The first stream id this side opens.
    pub fn first_stream_id(self) -> u32 {
        match self {
            Side::Base => 2,
            Side::Agent => 1,
        }
    }

    /// Whether `stream_id` is one this side opens (never true for the control stream).
    pub fn opens(self, stream_id: u32) -> bool {
        stream_id != CONTROL_STREAM && (stream_id % 2 == 1) == (self == Side::Agent)
    }
}

/// Why bytes are not a valid frame. Any of these from the peer closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {len} bytes is shorter than the {HEADER_BYTES}-byte header")]
    TooShort { len: usize },
    #[error("frame of {len} bytes is over the {MAX_FRAME_BYTES}-byte cap")]
    TooLarge { len: usize },
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error("Control frame on stream {stream_id}: control messages belong on stream 0")]
    ControlOffStream0 { stream_id: u32 },
    #[error("{kind} frame on stream 0, which carries only Control frames and connection Resets")]
    NotOnStream0 { kind: FrameKind },
    #[error("{kind} payload of {len} bytes is over its {max}-byte cap")]
    PayloadTooLarge {
        kind: FrameKind,
        len: usize,
        max: usize,
    },
    #[error("Credit payload must be a non-zero big-endian u32 (4 bytes)")]
    BadCredit,
    #[error("{kind} reason is not valid UTF-8")]
    BadReason { kind: FrameKind },
}

/// One frame. Fields are private so every value satisfies [`Frame::decode`]'s rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    stream_id: u32,
    kind: FrameKind,
    payload: Vec<u8>,
}

impl Frame {
    /// A frame from parts, checked against the same rules as [`Frame::decode`].
    pub fn new(stream_id: u32, kind: FrameKind, payload: Vec<u8>) -> Result<Frame, FrameError> {
        validate(stream_id, kind, &payload)?;
        Ok(Frame {
            stream_id,
            kind,
            payload,
        })
    }

    /// A control message on stream 0 (see [`encode_control`](super::encode_control), which
    /// also serialises it).
    pub fn control(json: Vec<u8>) -> Result<Frame, FrameError> {
        Frame::new(CONTROL_STREAM, FrameKind::Control, json)
    }

    /// Opens `stream_id` for `open`.
    pub fn open(stream_id: u32, open: &super::StreamOpen) -> Result<Frame, FrameError> {
        let json = serde_json::to_vec(open).expect("StreamOpen serialises: no maps, no floats");
        Frame::new(stream_id, FrameKind::Open, json)
    }

    /// Stream bytes.
    pub fn data(stream_id: u32, bytes: Vec<u8>) -> Result<Frame, FrameError> {
        Frame::new(stream_id, FrameKind::Data, bytes)
    }

    /// Grants the peer `bytes` more bytes on `stream_id`.
    pub fn credit(stream_id: u32, bytes: u32) -> Result<Frame, FrameError> {
        Frame::new(stream_id, FrameKind::Credit, bytes.to_be_bytes().to_vec())
    }

    /// No more data from us on `stream_id`; the reason is truncated to [`MAX_REASON_BYTES`].
    pub fn close(stream_id: u32, reason: Option<&str>) -> Result<Frame, FrameError> {
        let payload = reason.map(truncate_reason).unwrap_or_default();
        Frame::new(stream_id, FrameKind::Close, payload.as_bytes().to_vec())
    }

    /// Abort `stream_id` (or, on stream 0, the connection); the reason is truncated to
    /// [`MAX_REASON_BYTES`].
    pub fn reset(stream_id: u32, reason: &str) -> Result<Frame, FrameError> {
        let payload = truncate_reason(reason).as_bytes().to_vec();
        Frame::new(stream_id, FrameKind::Reset, payload)
    }

    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    pub fn kind(&self) -> FrameKind {
        self.kind
    }

    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// The bytes granted, for a `Credit` frame.
    pub fn credit_bytes(&self) -> Option<u32> {
        match self.kind {
            FrameKind::Credit => Some(u32::from_be_bytes(
                self.payload
                    .as_slice()
                    .try_into()
                    .expect("validated: Credit payload is 4 bytes"),
            )),
            _ => None,
        }
    }

    /// The reason, for a `Close` or `Reset` frame that has one.
    pub fn reason(&self) -> Option<&str> {
        match self.kind {
            FrameKind::Close | FrameKind::Reset if !self.payload.is_empty() => {
                Some(std::str::from_utf8(&self.payload).expect("validated: reasons are UTF-8"))
            }
            _ => None,
        }
    }

    /// The WebSocket binary message for this frame.
    pub fn encode(&self) -> Vec<u8> {
        encode_parts(self.stream_id, self.kind, &self.payload)
    }

    /// Parses one WebSocket binary message. Never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge { len: bytes.len() });
        }
        let Some((header, payload)) = bytes.split_first_chunk::<HEADER_BYTES>() else {
            return Err(FrameError::TooShort { len: bytes.len() });
        };
        let [a, b, c, d, kind] = *header;
        let kind = FrameKind::from_byte(kind).ok_or(FrameError::UnknownKind(kind))?;
        Frame::new(u32::from_be_bytes([a, b, c, d]), kind, payload.to_vec())
    }
}

/// Encodes a frame from borrowed parts, so the multiplexer can frame a slice of the caller's
/// buffer with one copy. The caller guarantees the parts are valid.
pub(crate) fn encode_parts(stream_id: u32, kind: FrameKind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_BYTES + payload.len());
    out.extend_from_slice(&stream_id.to_be_bytes());
    out.push(kind as u8);
    out.extend_from_slice(payload);
    out
}

fn validate(stream_id: u32, kind: FrameKind, payload: &[u8]) -> Result<(), FrameError> {
    let len = HEADER_BYTES + payload.len();
    if len > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge { len });
    }
    let on_control = stream_id == CONTROL_STREAM;
    match kind {
        FrameKind::Control if !on_control => {
            return Err(FrameError::ControlOffStream0 { stream_id });
        }
        FrameKind::Control | FrameKind::Reset => {}
        _ if on_control => return Err(FrameError::NotOnStream0 { kind }),
        _ => {}
    }
    let max = match kind {
        FrameKind::Control | FrameKind::Open => MAX_CONTROL_BYTES,
        FrameKind::Close | FrameKind::Reset => MAX_REASON_BYTES,
        FrameKind::Data | FrameKind::Credit => MAX_DATA_BYTES,
    };
    if payload.len() > max {
        return Err(FrameError::PayloadTooLarge {
            kind,
            len: payload.len(),
            max,
        });
    }
    match kind {
        FrameKind::Credit if payload.len() != 4 || payload == [0; 4] => Err(FrameError::BadCredit),
        FrameKind::Close | FrameKind::Reset if std::str::from_utf8(payload).is_err() => {
            Err(FrameError::BadReason { kind })
        }
        _ => Ok(()),
    }
}

/// The longest prefix of `reason` that fits [`MAX_REASON_BYTES`] on a character boundary.
fn truncate_reason(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}
