//! What Base asks of an agent's console and file explorer, and what the agent answers: the
//! payloads of [`StreamOpen::Console`](super::StreamOpen) and
//! [`StreamOpen::Files`](super::StreamOpen), and the JSON [`records`](super::records) on those
//! streams.
//!
//! A console stream carries terminal bytes as `Data` records both ways, [`ConsoleInput`] from
//! Base and [`ConsoleEvent`] from the agent as `Json` records. A files stream starts with the
//! agent's [`FileReply`]; a download's bytes follow as `Data` records, an upload's bytes come
//! from Base as `Data` records before the agent's reply.

use serde::{Deserialize, Serialize};

use crate::ids::ServiceId;

/// Open (or re-attach to) a shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleOpen {
    /// Names the shell across reconnects. Base makes it from the person and their browser's id
    /// (`<user id>/<browser id>`), so nobody can attach to someone else's shell.
    pub session: String,
    pub target: ConsoleTarget,
    pub cols: u16,
    pub rows: u16,
    /// A detached shell lives this long, waiting for its browser to come back.
    pub linger_secs: u32,
    /// A shell nobody typed into for this long is closed.
    pub idle_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleTarget {
    /// A login shell in the service's live release directory, with its non-secret env.
    Service { service_id: ServiceId },
    /// A login shell on the instance, in dployrd's data directory.
    Instance,
}

/// Base → agent, besides the keystrokes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleInput {
    Resize { cols: u16, rows: u16 },
}

/// Agent → Base, besides the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleEvent {
    /// The stream is attached; `resumed` when an existing shell was picked up (its recent
    /// output follows first).
    Attached { resumed: bool, pid: u32 },
    /// The shell ended (exit, idle timeout); the stream closes after this.
    Ended { reason: String },
    /// No shell: the console is off on this instance, the service has no live release, …
    Refused { reason: String },
}

/// One file operation, inside the service's live release directory. Paths are relative to it,
/// `/`-separated; the agent resolves them beneath that root only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRequest {
    pub service_id: ServiceId,
    pub op: FileOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileOp {
    List {
        path: String,
    },
    /// A file's bytes follow the reply.
    Read {
        path: String,
    },
    /// A directory as a gzip'd tar, streamed after the reply.
    Archive {
        path: String,
    },
    /// Replace (or create) a file with the bytes Base sends, atomically. With
    /// `if_modified_ms`, refused when the file changed since (an editor's conflict check).
    Write {
        path: String,
        max_bytes: u64,
        if_modified_ms: Option<i64>,
    },
    Mkdir {
        path: String,
    },
    Rename {
        from: String,
        to: String,
    },
    /// A file, or a directory with everything in it.
    Delete {
        path: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    pub size: u64,
    /// Permission bits, e.g. `0o644`.
    pub mode: u32,
    pub modified_ms: i64,
}

/// Why a file operation was not done; Base maps it to an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileErrorKind {
    /// 400: outside the root, absolute, `..`, NUL, too long, a device, …
    BadPath,
    /// 404
    NotFound,
    /// 409: exists, changed since, not empty, not a directory, …
    Conflict,
    /// 413
    TooLarge,
    /// 409: the service has no live release on this instance to browse.
    NoRelease,
    /// 500
    Io,
}

impl FileReply {
    /// Adds the next record of a listing that said `more`; false when either is no listing.
    pub fn add_page(&mut self, next: FileReply) -> bool {
        match (self, next) {
            (
                FileReply::Listing { entries, more },
                FileReply::Listing {
                    entries: page,
                    more: again,
                },
            ) => {
                entries.extend(page);
                *more = again;
                true
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileReply {
    /// A folder's entries. A folder too big for one record comes as several `Listing`
    /// records in a row, each but the last with `more` (audit L7).
    Listing {
        entries: Vec<FileEntry>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        more: bool,
    },
    /// Before a download's bytes (`size` of them) or after a write.
    Entry(FileEntry),
    /// Before an archive's bytes.
    Streaming,
    Done,
    Failed {
        kind: FileErrorKind,
        message: String,
    },
}
