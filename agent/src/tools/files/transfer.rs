//! The explorer's streamed operations: download a file, download a folder as tar.gz, and
//! upload (to a temporary file renamed over the target, so a reader never sees half a file).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cap_std::fs::{Dir, OpenOptions};
use proto::wire::{
    FileEntry, FileErrorKind, FileReply, MuxStream, Record, RecordReader, StreamError,
};
use tokio::io::AsyncReadExt;

use super::gate::{Failure, bad, blocking, checked, entry, fail, io_failure, not_root, open_root};

/// How much of a file goes in one record.
const CHUNK: usize = 64 * 1024;

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

pub(super) async fn read(
    mut stream: MuxStream,
    root: PathBuf,
    raw: String,
) -> Result<(), StreamError> {
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

/// `tar -czf -` of a folder beneath the root (symlinks stored as links, never followed). tar
/// starts in the very folder that was checked, through its open handle (`/proc/<pid>/fd/<n>`),
/// not by its path: a symlink swapped in after the check cannot send it elsewhere (audit L6).
pub(super) async fn archive(
    mut stream: MuxStream,
    root: PathBuf,
    raw: String,
) -> Result<(), StreamError> {
    let dir = match blocking(move || open_folder(&root, &raw)).await {
        Ok(d) => d,
        Err(f) => return fail(stream, f).await,
    };
    let child = tar_of(&dir);
    drop(dir);
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

/// The folder `raw` beneath the root, checked and opened: the handle tar starts in.
fn open_folder(root: &Path, raw: &str) -> Result<std::fs::File, Failure> {
    let rel = checked(raw)?;
    let dir = open_root(root)?
        .open_dir(rel.as_path())
        .map_err(|e| io_failure(raw, e))?;
    Ok(dir.into_std_file())
}

/// Starts `tar -czf - .` inside the folder `dir` is open on (whatever its path points at now).
fn tar_of(dir: &std::fs::File) -> io::Result<tokio::process::Child> {
    use std::os::fd::AsRawFd;
    let handle = format!("/proc/{}/fd/{}", std::process::id(), dir.as_raw_fd());
    tokio::process::Command::new("tar")
        .current_dir(&handle)
        .args(["-czf", "-", "."])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
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

pub(super) async fn write(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Audit L6: the folder is swapped for a symlink to elsewhere between the check and tar's
    /// start; tar must still archive the folder that was checked.
    #[tokio::test]
    async fn l6_the_archive_is_of_the_checked_folder_not_a_symlink_swapped_in_after() {
        let root = tempfile::tempdir().unwrap();
        let site = root.path().join("site");
        std::fs::create_dir(&site).unwrap();
        std::fs::write(site.join("inside.txt"), "mine").unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("outside.txt"), "not yours").unwrap();

        let dir = open_folder(root.path(), "site").unwrap();
        std::fs::rename(&site, root.path().join("moved")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &site).unwrap();
        let child = tar_of(&dir).unwrap();
        drop(dir);
        let out = child.wait_with_output().await.unwrap();
        assert!(out.status.success());

        let mut list = std::process::Command::new("tar")
            .args(["-tzf", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        list.stdin.take().unwrap().write_all(&out.stdout).unwrap();
        let names = String::from_utf8(list.wait_with_output().unwrap().stdout).unwrap();
        assert!(names.contains("inside.txt"), "{names}");
        assert!(!names.contains("outside.txt"), "{names}");
    }
}
