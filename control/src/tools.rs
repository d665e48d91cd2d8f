//! The console and the file explorer, Base's part: who may (RBAC and the instance's switch),
//! which agent stream serves it, and the audit events (`console.open`/`console.close`,
//! `file.write`, `file.mkdir`, `file.rename`, `file.delete`; never keystrokes or contents).
//! Bytes are moved by `server` (a WebSocket for consoles, HTTP bodies for files) through the
//! stream these functions open.

use proto::api::AuditAction;
use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use proto::wire::{
    ConsoleOpen, FileEntry, FileErrorKind, FileOp, FileReply, FileRequest, MuxStream, Record,
    RecordReader, StreamOpen,
};
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::gateway::registry::OpenError;
use crate::rbac::UseFiles;
use crate::store::instances as instances_sql;
use crate::{Actor, Base, DomainError};

mod gate;
use gate::ConsoleGate;
pub use gate::ConsoleScope;

/// How long a detached shell waits for its browser.
pub const CONSOLE_LINGER_SECS: u32 = 60;

/// An open console: the agent's stream and what the closing event needs.
pub struct Console {
    pub stream: MuxStream,
    pub opened: OpenedConsole,
}

/// Who opened which console when, for `console.close`.
pub struct OpenedConsole {
    cluster_id: String,
    target: String,
    at: std::time::Instant,
}

/// Upload bytes as they arrive from HTTP.
pub type Body = Pin<Box<dyn Stream<Item = Result<bytes::Bytes, String>> + Send>>;

fn offline(name: &str, e: OpenError) -> DomainError {
    match e {
        OpenError::Offline => {
            DomainError::Conflict(format!("{name} is offline: its dployrd is not connected"))
        }
        OpenError::Stream(e) => DomainError::Conflict(format!("{name}: {e}")),
        OpenError::Peer(e) => DomainError::Conflict(format!("{name}: {e}")),
    }
}

/// A browser's own id for its console tab: letters, digits, `-`, `_`.
fn browser_id(raw: &str) -> Result<&str, DomainError> {
    let ok = (8..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(raw).ok_or(DomainError::Invalid {
        field: "session",
        message: "session must be 8 to 64 letters, digits, - or _".into(),
    })
}

impl Base {
    /// Opens (or re-attaches to) a console. Admin+; refused when the instance's console is off.
    pub async fn open_console(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        session: &str,
        cols: u16,
        rows: u16,
    ) -> Result<Console, DomainError> {
        let session = browser_id(session)?;
        let ConsoleGate {
            instance,
            target,
            agent_target,
            may,
        } = self.console_gate(actor, scope).await?;
        let open = ConsoleOpen {
            // Per person and target: nobody attaches to someone else's shell.
            session: format!("{}/{target}/{session}", actor.user.id),
            target: agent_target,
            cols,
            rows,
            linger_secs: CONSOLE_LINGER_SECS,
            idle_secs: self.config.console_idle_secs,
        };
        let stream = self
            .open_stream(&instance.id, &StreamOpen::Console(open))
            .await
            .map_err(|e| offline(&instance.name, e))?;
        record(
            self.store.pool(),
            may.event(
                actor,
                AuditAction::ConsoleOpen,
                &target,
                json!({ "instance": instance.name, "session": session }),
            ),
        )
        .await?;
        Ok(Console {
            stream,
            opened: OpenedConsole {
                cluster_id: may.cluster_id().to_string(),
                target,
                at: std::time::Instant::now(),
            },
        })
    }

    /// Records the end of a console's connection (the shell may linger for a reconnect).
    pub async fn console_closed(&self, actor: &Actor, console: &OpenedConsole) {
        let seconds = console.at.elapsed().as_secs();
        let event = NewEvent::by(
            actor,
            &console.cluster_id,
            AuditAction::ConsoleClose,
            &console.target,
            json!({ "seconds": seconds }),
        );
        if let Err(e) = record(self.store.pool(), event).await {
            tracing::warn!(error = %e, "recording console.close");
        }
    }

    /// Opens a files stream for `op` on `service_id` after the checks; returns it with the
    /// service's cluster.
    async fn file_stream(
        &self,
        actor: &Actor,
        service_id: &str,
        op: FileOp,
    ) -> Result<(MuxStream, String), DomainError> {
        let (s, may) = self.service_for::<UseFiles>(actor, service_id).await?;
        let instance = instances_sql::by_id(self.store.pool(), &s.instance_id)
            .await?
            .ok_or(DomainError::NotFound("instance"))?;
        let purpose = StreamOpen::Files(FileRequest {
            service_id: s.id.clone().into(),
            op,
        });
        let stream = self
            .open_stream(&instance.id, &purpose)
            .await
            .map_err(|e| offline(&instance.name, e))?;
        Ok((stream, may.cluster_id().to_string()))
    }

    /// Opens a files stream for `op` and reads the agent's answer; what follows the answer (a
    /// download's bytes) is left on the stream. Also returns the service's cluster.
    async fn file_answer(
        &self,
        actor: &Actor,
        service_id: &str,
        op: FileOp,
    ) -> Result<(FileReply, Download, String), DomainError> {
        let (mut stream, cluster_id) = self.file_stream(actor, service_id, op).await?;
        let mut records = RecordReader::default();
        let reply = read_reply(stream.reader(), &mut records).await?;
        Ok((reply, Download { stream, records }, cluster_id))
    }

    /// List, mkdir, rename or delete: one request, one reply; mutations are audited once done.
    pub async fn file_op(
        &self,
        actor: &Actor,
        service_id: &str,
        op: FileOp,
    ) -> Result<FileReply, DomainError> {
        let event = match &op {
            FileOp::Mkdir { path } => Some((AuditAction::FileMkdir, json!({ "path": path }))),
            FileOp::Rename { from, to } => {
                Some((AuditAction::FileRename, json!({ "from": from, "to": to })))
            }
            FileOp::Delete { path } => Some((AuditAction::FileDelete, json!({ "path": path }))),
            FileOp::List { .. } => None,
            _ => {
                return Err(DomainError::Invalid {
                    field: "op",
                    message: "downloads and uploads stream".into(),
                });
            }
        };
        // The stream stays open until the mutation is audited.
        let (mut reply, mut open, cluster_id) = self.file_answer(actor, service_id, op).await?;
        // A big folder's listing comes in several records (audit L7).
        while let FileReply::Listing { more: true, .. } = reply {
            let next = read_reply(open.stream.reader(), &mut open.records).await?;
            if !reply.add_page(next) {
                return Err(DomainError::Conflict("bad answer from the instance".into()));
            }
        }
        if let Some((action, details)) = event {
            record(
                self.store.pool(),
                NewEvent::by(actor, &cluster_id, action, service_id, details),
            )
            .await?;
        }
        Ok(reply)
    }

    /// A download (`Read`) or a folder archive (`Archive`): the reply, then the bytes.
    pub async fn file_download(
        &self,
        actor: &Actor,
        service_id: &str,
        op: FileOp,
    ) -> Result<(FileReply, Download), DomainError> {
        if !matches!(op, FileOp::Read { .. } | FileOp::Archive { .. }) {
            return Err(DomainError::Invalid {
                field: "op",
                message: "not a download".into(),
            });
        }
        let (reply, download, _) = self.file_answer(actor, service_id, op).await?;
        Ok((reply, download))
    }

    /// Streams `body` to the agent as the new content of `path` (atomic there), then audits it.
    pub async fn file_upload(
        &self,
        actor: &Actor,
        service_id: &str,
        path: &str,
        if_modified_ms: Option<i64>,
        mut body: Body,
    ) -> Result<FileEntry, DomainError> {
        let max_bytes = self.config.upload_max_bytes;
        let op = FileOp::Write {
            path: path.to_string(),
            max_bytes,
            if_modified_ms,
        };
        let (stream, cluster_id) = self.file_stream(actor, service_id, op).await?;
        let (mut writer, mut reader) = stream.split();
        let mut records = RecordReader::default();
        let mut sent: u64 = 0;
        // The agent may answer early (a conflict, over the cap): stop sending then.
        let early = loop {
            tokio::select! {
                chunk = body.next() => match chunk {
                    Some(Ok(bytes)) => {
                        sent += bytes.len() as u64;
                        if sent > max_bytes {
                            // Dropped unclosed, the stream is reset: the agent discards the
                            // partial file (a clean close would make it the new content).
                            drop(writer);
                            return Err(DomainError::TooLarge(format!(
                                "the upload is over the {max_bytes}-byte cap"
                            )));
                        }
                        if writer.send(&Record::data(&bytes)).await.is_err() {
                            break true;
                        }
                    }
                    Some(Err(e)) => {
                        // The uploader went away: the agent discards the partial file.
                        drop(writer);
                        return Err(DomainError::Invalid { field: "body", message: format!("the upload broke off: {e}") });
                    }
                    None => break false,
                },
                chunk = reader.recv() => {
                    if let Ok(Some(c)) = chunk {
                        records.push(&c);
                    }
                    break true;
                }
            }
        };
        if !early {
            writer
                .close()
                .map_err(|e| DomainError::Conflict(format!("the instance went away: {e}")))?;
        }
        let reply = read_reply(&mut reader, &mut records).await?;
        let FileReply::Entry(entry) = reply else {
            return Err(DomainError::Conflict(
                "unexpected answer to an upload".into(),
            ));
        };
        record(
            self.store.pool(),
            NewEvent::by(
                actor,
                &cluster_id,
                AuditAction::FileWrite,
                service_id,
                json!({ "path": path, "bytes": entry.size }),
            ),
        )
        .await?;
        drop(writer);
        Ok(entry)
    }
}

/// A download's bytes after its reply.
pub struct Download {
    stream: MuxStream,
    records: RecordReader,
}

impl Download {
    /// The next piece of the file; `Ok(None)` at the end; an error if the transfer broke.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            match self.records.next_record().map_err(|e| e.to_string())? {
                Some(Record::Data(d)) => return Ok(Some(d)),
                Some(Record::Json(_)) => return Err("unexpected message in a download".into()),
                None => {}
            }
            match self.stream.recv().await.map_err(|e| e.to_string())? {
                Some(chunk) => self.records.push(&chunk),
                None if self.records.pending() == 0 => return Ok(None),
                None => return Err("the download ended inside a record".into()),
            }
        }
    }
}

fn failed(kind: FileErrorKind, message: String) -> DomainError {
    match kind {
        FileErrorKind::BadPath => DomainError::Invalid {
            field: "path",
            message,
        },
        FileErrorKind::NotFound => DomainError::NotFound("file"),
        FileErrorKind::Conflict | FileErrorKind::NoRelease => DomainError::Conflict(message),
        FileErrorKind::TooLarge => DomainError::TooLarge(message),
        FileErrorKind::Io => DomainError::Conflict(format!("on the instance: {message}")),
    }
}

/// Reads records until the agent's answer: its failure as an error, or what it did.
async fn read_reply(
    reader: &mut proto::wire::mux::StreamReader,
    records: &mut RecordReader,
) -> Result<FileReply, DomainError> {
    loop {
        if let Some(reply) = parse_reply(records)? {
            return Ok(reply);
        }
        match reader.recv().await {
            Ok(Some(chunk)) => records.push(&chunk),
            Ok(None) => return Err(DomainError::Conflict("the instance sent no answer".into())),
            Err(e) => {
                return Err(DomainError::Conflict(format!(
                    "the instance went away: {e}"
                )));
            }
        }
    }
}

fn parse_reply(records: &mut RecordReader) -> Result<Option<FileReply>, DomainError> {
    let bad = |e: String| DomainError::Conflict(format!("bad answer from the instance: {e}"));
    match records.next_record().map_err(|e| bad(e.to_string()))? {
        None => Ok(None),
        Some(Record::Json(j)) => {
            match Record::parse::<FileReply>(&j).map_err(|e| bad(e.to_string()))? {
                FileReply::Failed { kind, message } => Err(failed(kind, message)),
                ok => Ok(Some(ok)),
            }
        }
        Some(Record::Data(_)) => Err(bad("data before the answer".into())),
    }
}
