//! The gate every file operation passes: a path checked by [`beneath::check`], resolved only
//! through a `cap_std` handle on the service's directory, and I/O errors mapped to the reply
//! kinds the explorer shows.

use std::io::{self};
use std::path::Path;
use std::time::UNIX_EPOCH;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, Metadata};
use proto::wire::{FileEntry, FileErrorKind, FileKind, FileReply, MuxStream, Record, StreamError};

use crate::tools::beneath::{self, Relative};

pub(super) type Failure = (FileErrorKind, String);

pub(super) fn bad(message: impl Into<String>) -> Failure {
    (FileErrorKind::BadPath, message.into())
}

pub(super) fn io_failure(what: &str, e: io::Error) -> Failure {
    use io::ErrorKind as K;
    let kind = match e.kind() {
        K::NotFound => FileErrorKind::NotFound,
        // cap-std's answer to a path that would leave the root.
        K::PermissionDenied | K::InvalidInput | K::InvalidFilename => FileErrorKind::BadPath,
        K::AlreadyExists | K::DirectoryNotEmpty | K::NotADirectory | K::IsADirectory => {
            FileErrorKind::Conflict
        }
        _ => FileErrorKind::Io,
    };
    let detail = match kind {
        FileErrorKind::BadPath => "outside the service's directory, or not permitted".to_string(),
        FileErrorKind::NotFound => "no such file or directory".to_string(),
        _ => e.to_string(),
    };
    (kind, format!("{what}: {detail}"))
}

pub(super) async fn fail(
    mut stream: MuxStream,
    (kind, message): Failure,
) -> Result<(), StreamError> {
    stream
        .send(&Record::json(&FileReply::Failed { kind, message }))
        .await?;
    stream.close()
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err((FileErrorKind::Io, format!("file task failed: {e}"))))
}

pub(super) fn open_root(root: &Path) -> Result<Dir, Failure> {
    Dir::open_ambient_dir(root, ambient_authority())
        .map_err(|e| io_failure("the service's directory", e))
}

pub(super) fn checked(raw: &str) -> Result<Relative, Failure> {
    beneath::check(raw).map_err(bad)
}

pub(super) fn entry(name: String, m: &Metadata) -> FileEntry {
    use cap_std::fs::PermissionsExt;
    let ft = m.file_type();
    let kind = if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    };
    let modified_ms = m
        .modified()
        .ok()
        .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    FileEntry {
        name,
        kind,
        size: m.len(),
        mode: m.permissions().mode() & 0o7777,
        modified_ms,
    }
}

pub(super) fn not_root<'a>(rel: &'a Relative, what: &str) -> Result<&'a str, Failure> {
    rel.file_name()
        .filter(|_| !rel.is_root())
        .ok_or_else(|| bad(format!("cannot {what} the service's directory itself")))
}
