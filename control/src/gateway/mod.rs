//! The agent gateway: where dployrd connections arrive, on a listener of its own that requires
//! client certificates.
//!
//! - [`tls`]: the gateway's identity (key, self-signed certificate, pin) and client-cert policy.
//! - [`listener`]: accept, handshake, enroll or hello, heartbeats, commands and acks, revocation.
//! - `coalesce`: one reconcile at a time per connection, floods of reports collapsed.
//! - [`conn_error`]: how a connection ended, for the log.
//! - [`preauth`]: how many connections may be in their handshake at once (overall, per address).
//! - [`registry`]: which instances are online in this process, and the command path to them.

mod coalesce;
mod conn_error;
pub mod listener;
pub mod preauth;
pub mod registry;
pub mod tls;
