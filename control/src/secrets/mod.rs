//! Write-only secrets (issue 5): sealed at rest under a master key Base keeps outside the
//! database, opened only to be sent to the instance that runs the service.
//!
//! - [`keyring`]: the master key (file or `DPLOYR_MASTER_KEY`), sealing and opening values.
//! - [`rotation`]: `rotate-key`'s file dance, safe against a crash at any step.

pub mod keyring;
pub mod rotation;

pub use keyring::{KeyError, Keyring, Sealed};
