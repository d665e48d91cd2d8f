//! Write-only secrets (issue 5): sealed at rest under a master key Base keeps outside the
//! database, opened only to be sent to the instance that runs the service.
//!
//! - [`keyring`]: the master key (file or `DPLOYR_MASTER_KEY`), sealing and opening values.

pub mod keyring;

pub use keyring::{KeyError, Keyring, Sealed};
