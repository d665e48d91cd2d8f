//! The file explorer's operations on a service's live release directory, one stream each:
//! list, download (streamed), download a folder as tar.gz (streamed), upload (streamed to a
//! temporary file, then renamed over the target: atomic), mkdir, rename, delete.
//!
//! Every path goes through [`gate`] ([`super::beneath::check`], then a `cap_std` directory
//! handle on the root); only regular files are read or replaced, never devices, sockets or FIFOs.
//!
//! - [`gate`]: the path checks, the root handle and the mapping of I/O errors to replies.
//! - [`tree`]: list, mkdir, rename, delete (one JSON reply each).
//! - [`transfer`]: download, archive and upload (streamed records).

mod gate;
mod transfer;
mod tree;

use proto::wire::{FileErrorKind, FileOp, MuxStream, StreamError};

use crate::engine::Engine;
use gate::{blocking, fail};

/// Serves one file operation for `service_id`.
pub async fn serve(
    mut stream: MuxStream,
    engine: &Engine,
    service_id: &str,
    op: FileOp,
) -> Result<(), StreamError> {
    let workspace = engine.workspace(service_id);
    if workspace.as_ref().is_some_and(|w| w.container.is_some()) {
        let message = "a docker service's files live in its container: open the console to \
                       look inside it";
        return fail(stream, (FileErrorKind::NoRelease, message.into())).await;
    }
    let Some(root) = workspace.map(|w| w.dir) else {
        return fail(
            stream,
            (
                FileErrorKind::NoRelease,
                "this service has no live release on this instance yet: deploy it first".into(),
            ),
        )
        .await;
    };
    let result = match op {
        FileOp::List { path } => blocking(move || tree::list(&root, &path)).await,
        FileOp::Mkdir { path } => blocking(move || tree::mkdir(&root, &path)).await,
        FileOp::Rename { from, to } => blocking(move || tree::rename(&root, &from, &to)).await,
        FileOp::Delete { path } => blocking(move || tree::delete(&root, &path)).await,
        FileOp::Read { path } => return transfer::read(stream, root, path).await,
        FileOp::Archive { path } => return transfer::archive(stream, root, path).await,
        FileOp::Write {
            path,
            max_bytes,
            if_modified_ms,
        } => return transfer::write(stream, root, path, max_bytes, if_modified_ms).await,
    };
    match result {
        Ok(reply) => {
            stream.send(&tree::records(reply)).await?;
            stream.close()
        }
        Err(f) => fail(stream, f).await,
    }
}
