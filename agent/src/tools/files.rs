//! The file explorer's operations on a service's live release directory, one stream each:
//! list, download (streamed), download a folder as tar.gz (streamed), upload (streamed to a
//! temporary file, then renamed over the target: atomic), mkdir, rename, delete.
//!
//! Every path goes through [`beneath::check`] and then a `cap_std` directory handle on the root
//! (see [`beneath`]); only regular files are read or replaced, never devices, sockets or FIFOs.
//!
//! Over the ~400-line budget on purpose: every operation's path checks and error mapping sit
//! together, so a reviewer sees in one file that none of them skips a gate.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, Metadata, OpenOptions};
use proto::wire::{
    FileEntry, FileErrorKind, FileKind, FileOp, FileReply, MuxStream, Record, RecordReader,
    StreamError,
};
use tokio::io::AsyncReadExt;

use super::beneath::{self, Relative};
use crate::engine::Engine;

/// How much of a file goes in one record.
const CHUNK: usize = 64 * 1024;

type Failure = (FileErrorKind, String);

fn bad(message: impl Into<String>) -> Failure {
    (FileErrorKind::BadPath, message.into())
}

fn io_failure(what: &str, e: io::Error) -> Failure {
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
        FileOp::List { path } => blocking(move || list(&root, &path)).await,
        FileOp::Mkdir { path } => blocking(move || mkdir(&root, &path)).await,
        FileOp::Rename { from, to } => blocking(move || rename(&root, &from, &to)).await,
        FileOp::Delete { path } => blocking(move || delete(&root, &path)).await,
        FileOp::Read { path } => return read(stream, root, path).await,
        FileOp::Archive { path } => return archive(stream, root, path).await,
        FileOp::Write {
            path,
            max_bytes,
            if_modified_ms,
        } => return write(stream, root, path, max_bytes, if_modified_ms).await,
    };
    match result {
        Ok(reply) => {
            stream.send(&Record::json(&reply)).await?;
            stream.close()
        }
        Err(f) => fail(stream, f).await,
    }
}

async fn fail(mut stream: MuxStream, (kind, message): Failure) -> Result<(), StreamError> {
    stream
        .send(&Record::json(&FileReply::Failed { kind, message }))
        .await?;
    stream.close()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err((FileErrorKind::Io, format!("file task failed: {e}"))))
}

fn open_root(root: &Path) -> Result<Dir, Failure> {
    Dir::open_ambient_dir(root, ambient_authority())
        .map_err(|e| io_failure("the service's directory", e))
}

fn checked(raw: &str) -> Result<Relative, Failure> {
    beneath::check(raw).map_err(bad)
}

fn entry(name: String, m: &Metadata) -> FileEntry {
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

fn list(root: &Path, raw: &str) -> Result<FileReply, Failure> {
    let rel = checked(raw)?;
    let dir = open_root(root)?
        .open_dir(rel.as_path())
        .map_err(|e| io_failure(raw, e))?;
    let mut entries = Vec::new();
    for e in dir.entries().map_err(|e| io_failure(raw, e))? {
        let e = e.map_err(|e| io_failure(raw, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let m = e.metadata().map_err(|e| io_failure(&name, e))?;
        entries.push(entry(name, &m));
    }
    entries.sort_by(|a, b| {
        (a.kind != FileKind::Dir)
            .cmp(&(b.kind != FileKind::Dir))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(FileReply::Listing { entries })
}

fn not_root<'a>(rel: &'a Relative, what: &str) -> Result<&'a str, Failure> {
    rel.file_name()
        .filter(|_| !rel.is_root())
        .ok_or_else(|| bad(format!("cannot {what} the service's directory itself")))
}

fn mkdir(root: &Path, raw: &str) -> Result<FileReply, Failure> {
    let rel = checked(raw)?;
    not_root(&rel, "create")?;
    let dir = open_root(root)?;
    dir.create_dir(rel.as_path())
        .map_err(|e| io_failure(raw, e))?;
    let m = dir
        .metadata(rel.as_path())
        .map_err(|e| io_failure(raw, e))?;
    Ok(FileReply::Entry(entry(
        rel.file_name().unwrap_or_default().into(),
        &m,
    )))
}

fn rename(root: &Path, from_raw: &str, to_raw: &str) -> Result<FileReply, Failure> {
    let (from, to) = (checked(from_raw)?, checked(to_raw)?);
    not_root(&from, "move")?;
    not_root(&to, "replace")?;
    let dir = open_root(root)?;
    dir.symlink_metadata(from.as_path())
        .map_err(|e| io_failure(from_raw, e))?;
    if dir.symlink_metadata(to.as_path()).is_ok() {
        return Err((
            FileErrorKind::Conflict,
            format!("{to_raw} already exists: delete it first"),
        ));
    }
    dir.rename(from.as_path(), &dir, to.as_path())
        .map_err(|e| io_failure(to_raw, e))?;
    let m = dir
        .symlink_metadata(to.as_path())
        .map_err(|e| io_failure(to_raw, e))?;
    Ok(FileReply::Entry(entry(
        to.file_name().unwrap_or_default().into(),
        &m,
    )))
}

fn delete(root: &Path, raw: &str) -> Result<FileReply, Failure> {
    let rel = checked(raw)?;
    not_root(&rel, "delete")?;
    let dir = open_root(root)?;
    let m = dir
        .symlink_metadata(rel.as_path())
        .map_err(|e| io_failure(raw, e))?;
    if m.is_dir() {
        dir.remove_dir_all(rel.as_path())
    } else {
        dir.remove_file(rel.as_path())
    }
    .map_err(|e| io_failure(raw, e))?;
    Ok(FileReply::Done)
}

/// Opens a regular file beneath the root for reading.
fn open_file(root: &Path, raw: &str) -> Result<(std::fs::File, FileEntry), Failure> {
    let rel = checked(raw)?;
    let dir = open_root(root)?;
    let m = dir
        .metadata(rel.as_path())
        .map_err(|e| io_failure(raw, e))?;
    if m.is_dir() {
        return Err((
            FileErrorKind::Conflict,
            format!("{raw} is a folder: download it as an archive"),
        ));
    }
    if !m.is_file() {
        return Err(bad(format!("{raw} is not a regular file")));
    }
    let file = dir.open(rel.as_path()).map_err(|e| io_failure(raw, e))?;
    let name = rel.file_name().unwrap_or_default().to_string();
    Ok((file.into_std(), entry(name, &m)))
}

async fn read(mut stream: MuxStream, root: PathBuf, raw: String) -> Result<(), StreamError> {
    let opened = blocking(move || open_file(&root, &raw)).await;
    let (file, meta) = match opened {
        Ok(x) => x,
        Err(f) => return fail(stream, f).await,
    };
    stream.send(&Record::json(&FileReply::Entry(meta))).await?;
    let mut file = tokio::fs::File::from_std(file);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match file.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                stream.reset(&format!("reading failed: {e}"));
                return Ok(());
            }
        };
        stream.send(&Record::data(&buf[..n])).await?;
    }
    stream.close()
}

/// `tar -czf -` of a folder beneath the root (symlinks stored as links, never followed).
async fn archive(mut stream: MuxStream, root: PathBuf, raw: String) -> Result<(), StreamError> {
    let checked_dir = {
        let root = root.clone();
        blocking(move || {
            let rel = checked(&raw)?;
            open_root(&root)?
                .open_dir(rel.as_path())
                .map_err(|e| io_failure(&raw, e))?;
            Ok(root.join(rel.as_path()))
        })
        .await
    };
    let dir = match checked_dir {
        Ok(d) => d,
        Err(f) => return fail(stream, f).await,
    };
    let child = tokio::process::Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .args(["-czf", "-", "."])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return fail(stream, (FileErrorKind::Io, format!("tar: {e}"))).await,
    };
    stream.send(&Record::json(&FileReply::Streaming)).await?;
    let mut out = child.stdout.take().expect("piped");
    let mut buf = vec![0u8; CHUNK];
    loop {
        match out.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => stream.send(&Record::data(&buf[..n])).await?,
            Err(e) => {
                stream.reset(&format!("tar output: {e}"));
                return Ok(());
            }
        }
    }
    match child.wait().await {
        Ok(s) if s.success() => stream.close(),
        _ => {
            stream.reset("tar failed part-way");
            Ok(())
        }
    }
}

/// Where an upload is written before it replaces the target.
struct Upload {
    parent: Dir,
    temp: String,
    name: String,
    file: std::fs::File,
}

fn begin_upload(root: &Path, raw: &str, if_modified_ms: Option<i64>) -> Result<Upload, Failure> {
    use cap_std::fs::PermissionsExt;
    use std::os::unix::fs::PermissionsExt as _;
    let rel = checked(raw)?;
    let name = not_root(&rel, "replace")?.to_string();
    let parent_rel = rel.as_path().parent().unwrap_or(Path::new("."));
    let parent_rel = if parent_rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent_rel
    };
    let parent = open_root(root)?
        .open_dir(parent_rel)
        .map_err(|e| io_failure(raw, e))?;
    let mut mode = 0o644;
    match parent.symlink_metadata(&name) {
        Ok(m) if m.is_file() => {
            mode = m.permissions().mode() & 0o7777;
            let current = entry(name.clone(), &m).modified_ms;
            if let Some(seen) = if_modified_ms
                && seen != current
            {
                return Err((
                    FileErrorKind::Conflict,
                    format!("{raw} changed since you opened it: reload it, then save again"),
                ));
            }
        }
        Ok(m) if m.is_dir() => {
            return Err((FileErrorKind::Conflict, format!("{raw} is a folder")));
        }
        Ok(_) => return Err(bad(format!("{raw} is not a regular file"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if if_modified_ms.is_some() {
                return Err((
                    FileErrorKind::Conflict,
                    format!("{raw} was deleted since you opened it"),
                ));
            }
        }
        Err(e) => return Err(io_failure(raw, e)),
    }
    let temp = format!(".{name}.dployr-upload-{:016x}", rand::random::<u64>());
    let file = parent
        .open_with(&temp, OpenOptions::new().write(true).create_new(true))
        .map_err(|e| io_failure(raw, e))?
        .into_std();
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_failure(raw, e))?;
    Ok(Upload {
        parent,
        temp,
        name,
        file,
    })
}

impl Upload {
    fn finish(self) -> Result<FileReply, Failure> {
        self.file
            .sync_all()
            .map_err(|e| io_failure(&self.name, e))?;
        self.parent
            .rename(&self.temp, &self.parent, &self.name)
            .map_err(|e| io_failure(&self.name, e))?;
        let m = self
            .parent
            .metadata(&self.name)
            .map_err(|e| io_failure(&self.name, e))?;
        Ok(FileReply::Entry(entry(self.name, &m)))
    }

    fn abandon(self) {
        let _ = self.parent.remove_file(&self.temp);
    }
}

async fn write(
    mut stream: MuxStream,
    root: PathBuf,
    raw: String,
    max_bytes: u64,
    if_modified_ms: Option<i64>,
) -> Result<(), StreamError> {
    let begun = blocking(move || begin_upload(&root, &raw, if_modified_ms)).await;
    let mut upload = match begun {
        Ok(u) => u,
        Err(f) => return fail(stream, f).await,
    };
    let mut records = RecordReader::default();
    let mut written: u64 = 0;
    let outcome: Result<(), Failure> = loop {
        let chunk = match stream.recv().await {
            Ok(Some(c)) => c,
            Ok(None) => break Ok(()),
            Err(e) => {
                // Base or the browser went away mid-upload: nothing replaced.
                upload.abandon();
                return Err(e);
            }
        };
        records.push(&chunk);
        let mut failed = None;
        loop {
            match records.next_record() {
                Ok(Some(Record::Data(d))) => {
                    written += d.len() as u64;
                    if written > max_bytes {
                        failed = Some((
                            FileErrorKind::TooLarge,
                            format!("the upload is over the {max_bytes}-byte cap"),
                        ));
                        break;
                    }
                    if let Err(e) = upload.file.write_all(&d) {
                        failed = Some(io_failure(&upload.name, e));
                        break;
                    }
                }
                Ok(Some(Record::Json(_))) => {
                    failed = Some(bad("unexpected message in an upload"));
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    failed = Some(bad(e.to_string()));
                    break;
                }
            }
        }
        if let Some(f) = failed {
            break Err(f);
        }
    };
    if records.pending() > 0 && outcome.is_ok() {
        upload.abandon();
        return fail(stream, bad("the upload ended inside a record")).await;
    }
    match outcome {
        Ok(()) => match blocking(move || upload.finish()).await {
            Ok(reply) => {
                stream.send(&Record::json(&reply)).await?;
                stream.close()
            }
            Err(f) => fail(stream, f).await,
        },
        Err(f) => {
            upload.abandon();
            fail(stream, f).await
        }
    }
}
