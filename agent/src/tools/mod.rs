//! The console and the file explorer on the agent's side: what Base's `Console` and `Files`
//! streams reach (see `proto::wire::tools` for the contract).
//!
//! - [`console`]: login shells in PTYs that survive a browser reconnect.
//! - [`files`]: list, download, archive, upload, mkdir, rename, delete.
//! - [`beneath`]: path checks that keep all of it inside the service's directory.

pub mod beneath;
pub mod console;
pub mod files;

use std::path::PathBuf;

use crate::engine::Engine;

/// What the streams need, shared by every connection of one `dployrd run`.
#[derive(Clone)]
pub struct Tools {
    pub engine: Engine,
    pub consoles: console::Consoles,
    /// dployrd's data directory: where an instance console starts.
    pub data_dir: PathBuf,
    /// `false` when the operator switched the console off on this machine (`--no-console`):
    /// refused whatever Base says.
    pub console_enabled: bool,
}
