//! The contracts every other crate agrees on, with no dependencies beyond serde so the CLI, the
//! agent and the WASM dashboard can all use them.
//!
//! - [`api`]: request and response bodies of Base's REST API under `/api/v1`.
//! - [`ids`]: typed ids (`ServiceId`, `DeploymentId`, …), each the bare string on the wire.
//! - [`loader_env`]: environment variable names that change what code runs (Admin-only).
//! - [`redact`]: credentials as they may be shown (a git URL without its password or token).
//! - [`rules`]: input rules (email, names, password strength) both sides apply.
//! - [`service`]: what a service is (source, runtime, commands, health check, …).
//! - [`resources`]: a service's optional memory and CPU limits, its own and its builds'.
//! - [`names`]: the wire names of the fieldless enums, read back with an error for unknown ones.
//! - [`deploy`]: a deployment's states and the one function that moves between them.
//! - [`wire`]: the Base <-> dployrd tunnel protocol: frames, control messages, credit windows,
//!   and (feature `mux`, the only one that pulls in tokio) the async stream multiplexer;
//!   (feature `ws`) the handshake over a WebSocket.
//! - [`tls`] (feature `tls`): the tunnel's mutual TLS, the pin and self-signed identities.

pub mod api;
pub mod deploy;
pub mod ids;
pub mod loader_env;
pub mod names;
pub mod redact;
pub mod resources;
pub mod rules;
pub mod service;
#[cfg(feature = "tls")]
pub mod tls;
pub mod wire;
