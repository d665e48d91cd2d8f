//! Base <-> dployrd tunnel protocol. Only the version lives here until the agent exists; the
//! message enums, framing and flow-control windows arrive with the agent tunnel.

/// Bumped on every incompatible change to the tunnel protocol.
pub const PROTOCOL_VERSION: u16 = 1;
