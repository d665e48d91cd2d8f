//! Control messages: JSON on stream 0, one enum per direction named after its sender.
//!
//! Serde's default external tagging (`{"Heartbeat":{"seq":3}}`, `"Ping"`) keeps the JSON readable
//! in logs. Unknown fields are ignored, so a newer peer may add one; an unknown variant is an
//! error the receiver handles (a new message kind needs a [`PROTOCOL_VERSION`] bump).
//!
//! Commands: Base sends [`BaseMsg::Command`] with an `id`, and dployrd answers [`AgentMsg::Ack`]
//! with the same id once it has acted. Ids are never reused by Base, even across its restarts.
//! dployrd remembers the outcomes of the last ids it was given and answers a repeated id with
//! the remembered outcome (or, if that command still runs, with its outcome when it ends)
//! without doing the work again, so sending a command twice is safe. Base itself sends each
//! command once: if the connection ends before the ack, the caller learns that and decides.
//! Deploy orders that were not accepted are sent again on the next reconnect, under a new id;
//! they are idempotent by `deployment_id` (dployrd runs a deployment id once).
//!
//! [`PROTOCOL_VERSION`]: super::PROTOCOL_VERSION

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::domains::{CertReport, ServiceDomains, UploadedCert};
use super::frame::{Frame, FrameError, FrameKind, MAX_CONTROL_BYTES};
use super::metrics::MetricsFrame;
pub use super::work::{AgentState, DeployOrder, DeployProgress, Lifecycle, ServiceReport};
use crate::ids::{DeploymentId, InstanceId, ServiceId};

/// What dployrd may say to Base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentMsg {
    /// First message of every `dployrd run` connection: who is calling and what it runs now, so
    /// Base can refuse an incompatible protocol and reconcile desired against actual state.
    Hello {
        protocol: u16,
        /// dployrd's version, for the dashboard and logs.
        version: String,
        host: HostFacts,
        state: AgentState,
    },
    /// First message of a `dployrd join` connection: redeem a join token for an instance
    /// identity bound to the client certificate this TLS connection presented.
    Enroll {
        protocol: u16,
        token: JoinToken,
        host: HostFacts,
        version: String,
    },
    /// Liveness; sent every `heartbeat_secs` (from [`BaseMsg::Welcome`]) with `seq` counting up.
    Heartbeat { seq: u64 },
    /// The outcome of the command Base sent with this `id`. Sent again, identically, if Base
    /// sends the same id again.
    Ack { id: u64, outcome: Outcome },
    /// The agent's actual state changed since `Hello` or the last `Status`.
    Status { state: AgentState },
    /// A deployment moved to a new state.
    Deploy(DeployProgress),
    /// A service's process changed (crashed, restarted, stopped).
    Service(ServiceReport),
    /// A domain's certificate was issued, renewed or failed.
    Certificate(CertReport),
    /// The host's and its services' figures, one frame per sampling interval (protocol 3).
    Metrics(MetricsFrame),
}

/// What Base may say to dployrd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BaseMsg {
    /// Answer to `Hello`: the agent is recognised; heartbeat both ways every `heartbeat_secs`.
    Welcome {
        instance_id: InstanceId,
        heartbeat_secs: u32,
    },
    /// Answer to `Enroll`: the token was burned and this certificate now is `instance_id`.
    /// Base closes the connection after it; the agent reconnects with `dployrd run`.
    Enrolled { instance_id: InstanceId },
    /// Answer to `Hello` or `Enroll` that Base will not serve (unknown or revoked instance,
    /// expired token, unsupported protocol). Base closes the connection after it.
    Refused { reason: String },
    /// Liveness; sent every `heartbeat_secs` with `seq` counting up.
    Heartbeat { seq: u64 },
    /// Work for the agent, answered by [`AgentMsg::Ack`] with the same `id`. Ids are unique per
    /// instance; a repeated id is answered with the first one's outcome, not done twice.
    Command { id: u64, command: Command },
}

/// A unit of work Base asks the agent for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Do nothing and ack `Ok`: proves the command path end to end.
    Ping,
    /// Start a deployment; acked once accepted, progress follows as [`AgentMsg::Deploy`].
    Deploy(Box<DeployOrder>),
    /// Stop a deployment in progress (its whole process tree); acked once it is stopped.
    CancelDeploy { deployment_id: DeploymentId },
    /// Switch a service's traffic back to a kept release, without a build.
    Rollback {
        service_id: ServiceId,
        deployment_id: DeploymentId,
    },
    /// Restart, stop, start or remove a service.
    Service {
        service_id: ServiceId,
        action: Lifecycle,
    },
    /// Route exactly these (verified) hosts to the service and keep a certificate for each;
    /// acked once routed (certificates follow as [`AgentMsg::Certificate`]).
    Domains(ServiceDomains),
    /// Serve this uploaded certificate for its domain instead of getting one by ACME.
    InstallCertificate(UploadedCert),
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Done.
    Ok,
    /// Not done; `kind` decides how Base answers the person who asked, `message` is shown to
    /// them. A plain failure leaves `kind` out, so an older peer's `{"message": …}` still reads.
    Err {
        #[serde(default, skip_serializing_if = "CommandErrorKind::is_failed")]
        kind: CommandErrorKind,
        message: String,
    },
}

impl Outcome {
    pub fn err(kind: CommandErrorKind, message: impl Into<String>) -> Outcome {
        Err(CommandFailure::new(kind, message)).into()
    }
}

/// Why a command was not done, as [`FileErrorKind`](super::FileErrorKind) is for files: the agent
/// says what it knows, and Base maps it once to its own errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandErrorKind {
    /// What the command names is not on the instance (a release it no longer keeps).
    NotFound,
    /// The service's state on the instance does not allow it now (no live release to start).
    Conflict,
    /// The agent cannot accept the command as sent.
    Invalid,
    /// It was tried and did not work (the new process failed its health check).
    #[default]
    Failed,
}

impl CommandErrorKind {
    pub fn is_failed(&self) -> bool {
        *self == CommandErrorKind::Failed
    }
}

/// A command not done, as the agent's code passes it up until it becomes [`Outcome::Err`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CommandFailure {
    pub kind: CommandErrorKind,
    pub message: String,
}

impl CommandFailure {
    pub fn new(kind: CommandErrorKind, message: impl Into<String>) -> CommandFailure {
        CommandFailure {
            kind,
            message: message.into(),
        }
    }
}

impl From<Result<(), CommandFailure>> for Outcome {
    fn from(result: Result<(), CommandFailure>) -> Outcome {
        match result {
            Ok(()) => Outcome::Ok,
            Err(CommandFailure { kind, message }) => Outcome::Err { kind, message },
        }
    }
}

/// What the agent's machine is, reported in `Hello` and `Enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostFacts {
    pub hostname: String,
    /// Human name of the OS, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os: String,
    /// CPU architecture as Rust names it (`x86_64`, `aarch64`).
    pub arch: String,
    pub cpus: u32,
    pub memory_bytes: u64,
    /// Size of the root filesystem's device; 0 when unknown (e.g. in a container).
    pub disk_bytes: u64,
    /// The domain services get their default host under (`dployrd run --ingress-domain`), so
    /// Base can show a CNAME target for custom domains. Not known at `join`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_domain: Option<String>,
}

/// A join token in flight. Its `Debug` prints `[redacted]` so it never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JoinToken(String);

impl JoinToken {
    pub fn new(token: impl Into<String>) -> JoinToken {
        JoinToken(token.into())
    }

    /// The plaintext, for hashing and comparing; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinToken([redacted])")
    }
}

/// What a new stream is for: the JSON payload of its `Open` frame, so the receiver can route
/// its bytes. A receiver that does not know the variant resets that stream only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamOpen {
    /// The receiver writes every byte back and closes when the opener closes: a tunnel
    /// self-test and throughput probe.
    Echo,
    /// Opened by the agent once per connection: its services' output, one
    /// [`LogRecord`](super::work::LogRecord) as a JSON line each, for Base to keep and relay.
    Logs,
    /// Opened by Base: a shell for a browser's console ([`super::tools`]).
    Console(super::tools::ConsoleOpen),
    /// Opened by Base: one file operation ([`super::tools`]).
    Files(super::tools::FileRequest),
}

/// Why a control message could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control message of {len} bytes is over the {MAX_CONTROL_BYTES}-byte cap")]
    TooLarge { len: usize },
    #[error("expected a Control frame, got {0}")]
    NotControl(FrameKind),
    #[error("control message is not valid JSON for this direction: {0}")]
    Json(#[from] serde_json::Error),
}

/// Serialises `msg` into a control frame, refusing one over [`MAX_CONTROL_BYTES`].
pub fn encode_control<T: Serialize>(msg: &T) -> Result<Frame, ControlError> {
    let json = serde_json::to_vec(msg)?;
    Frame::control(json).map_err(|e| match e {
        FrameError::PayloadTooLarge { len, .. } => ControlError::TooLarge { len },
        other => unreachable!("a Control frame on stream 0 only fails on size: {other}"),
    })
}

/// Parses a control frame as `T` ([`AgentMsg`] on Base, [`BaseMsg`] on the agent).
pub fn decode_control<T: DeserializeOwned>(frame: &Frame) -> Result<T, ControlError> {
    if frame.kind() != FrameKind::Control {
        return Err(ControlError::NotControl(frame.kind()));
    }
    // A Frame's invariants already bound this; checked again because this function is the
    // contract's size gate and must not depend on how the frame was built.
    if frame.payload().len() > MAX_CONTROL_BYTES {
        return Err(ControlError::TooLarge {
            len: frame.payload().len(),
        });
    }
    Ok(serde_json::from_slice(frame.payload())?)
}
