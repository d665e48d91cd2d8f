//! The Base <-> dployrd tunnel protocol (DESIGN.md §3), written once so both ends agree.
//!
//! One WebSocket carries everything between Base and one agent. Reading order:
//!
//! - [`frame`]: one WebSocket binary message = one [`Frame`] `(stream_id, kind, payload)`, the
//!   size caps, and which side may open which stream ids.
//! - [`msg`]: the JSON control messages on stream 0, one enum per sender ([`AgentMsg`],
//!   [`BaseMsg`]), and what a new stream is for ([`StreamOpen`]).
//! - [`work`]: deploy orders and lifecycle commands, and the agent's reports on them.
//! - [`domains`]: the hosts a service serves and the agent's reports on their certificates.
//! - [`metrics`]: the agent's periodic sample of its host and services (protocol 3).
//! - [`records`]: framing of messages inside one stream (consoles, file transfers).
//! - [`tools`]: the console's and the file explorer's requests and answers.
//! - [`window`]: per-stream credit windows, sans IO, so a stalled stream never blocks the others.
//! - [`host`]: [`HostFacts::detect`], what the agent reports about its machine.
//! - `handshake` (feature `ws`): the messages before the multiplexer takes over (`Hello`,
//!   `Welcome`, …) over a WebSocket, and the WebSocket limits, the same for both ends.
//! - `mux` (feature `mux`): the async multiplexer that runs all of the above over any
//!   `Sink`/`Stream` of binary messages.

pub mod domains;
pub mod frame;
#[cfg(feature = "ws")]
pub mod handshake;
pub mod host;
pub mod metrics;
pub mod msg;
#[cfg(feature = "mux")]
pub mod mux;
pub mod records;
pub mod tools;
pub mod window;
pub mod work;

pub use domains::{CertReport, CertState, ServiceDomains, UploadedCert};
pub use frame::{
    CONTROL_STREAM, Frame, FrameError, FrameKind, HEADER_BYTES, MAX_CONTROL_BYTES, MAX_DATA_BYTES,
    MAX_FRAME_BYTES, MAX_REASON_BYTES, Side,
};
pub use metrics::{HostSample, MetricsFrame, Percentiles, RequestSample, ServiceSample};
pub use msg::{
    AgentMsg, AgentState, BaseMsg, Command, CommandErrorKind, CommandFailure, ControlError,
    HostFacts, JoinToken, Outcome, StreamOpen, decode_control, encode_control,
};
#[cfg(feature = "mux")]
pub use mux::{
    ControlReceiver, Incoming, Mux, MuxError, MuxStream, StreamError, StreamReader, StreamWriter,
};
pub use records::{MAX_RECORD_BYTES, Record, RecordError, RecordReader};
pub use tools::{
    ConsoleEvent, ConsoleInput, ConsoleOpen, ConsoleTarget, FileEntry, FileErrorKind, FileKind,
    FileOp, FileReply, FileRequest,
};
pub use window::{INITIAL_WINDOW, RecvWindow, SendWindow, WindowError};
pub use work::{
    DeployOrder, DeployProgress, Lifecycle, LogRecord, LogStream, RunState, Secrets, ServiceReport,
};

/// Bumped on every change to the tunnel protocol. Sent in `Hello` and `Enroll`; Base refuses a
/// version it does not speak instead of guessing. 3 added [`AgentMsg::Metrics`].
pub const PROTOCOL_VERSION: u16 = 3;
/// The oldest agent protocol Base still serves: a protocol-2 dployrd differs only in never
/// sending [`AgentMsg::Metrics`], so Base takes it (its instance just has no metrics).
pub const MIN_PROTOCOL_VERSION: u16 = 2;
