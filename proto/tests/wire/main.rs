//! The wire contract from the outside, in one test binary: frames and control messages
//! round-trip and reject bad input, a proptest suite fuzzes the decoders, and (feature `mux`)
//! the multiplexer is driven over in-memory transports, sometimes against a hand-written peer
//! that breaks the rules on purpose.

mod control;
mod frames;
mod fuzz;
#[cfg(feature = "mux")]
mod mux;
#[cfg(feature = "mux")]
mod mux_faults;
#[cfg(feature = "mux")]
mod support;
