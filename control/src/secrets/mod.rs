//! Write-only secrets (issue 5): sealed at rest under a master key Base keeps outside the
//! database, opened only to be sent to the instance that runs the service.
//!
//! - [`keyring`]: sealing and opening values under the master key (pure, no I/O).
//! - [`keyfiles`]: where the keys live (`master.key` files or the operator's settings).
//! - [`rotation`]: `rotate-key`'s file dance, safe against a crash at any step.

pub mod keyfiles;
pub mod keyring;
pub mod rotation;

pub use keyfiles::KeySettings;
pub use keyring::{KeyError, Keyring, Sealed};
