//! The explorer's one-reply operations: list a directory, make one, rename and delete.

use std::path::Path;

use cap_std::fs::Metadata;

use proto::wire::{FileErrorKind, FileKind, FileReply, MAX_RECORD_BYTES, Record};

use super::gate::{Failure, checked, entry, io_failure, not_root, open_root};
use crate::tools::beneath::Relative;

pub(super) fn list(root: &Path, raw: &str) -> Result<FileReply, Failure> {
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
    Ok(FileReply::Listing {
        entries,
        more: false,
    })
}

/// `reply` as JSON records, a [`FileReply::Listing`] split into as many as it takes to keep
/// each within the record cap (a `node_modules` has thousands of entries).
pub(super) fn records(reply: FileReply) -> Vec<u8> {
    let FileReply::Listing { entries, .. } = reply else {
        return Record::json(&reply);
    };
    // Room for the envelope (`{"Listing":{"entries":[],"more":true}}`) and then some.
    let budget = MAX_RECORD_BYTES - 1024;
    let mut out = Vec::new();
    let mut page = Vec::new();
    let mut size = 0;
    for e in entries {
        let len = serde_json::to_vec(&e).map_or(0, |b| b.len()) + 1;
        if size + len > budget && !page.is_empty() {
            out.extend(Record::json(&FileReply::Listing {
                entries: std::mem::take(&mut page),
                more: true,
            }));
            size = 0;
        }
        size += len;
        page.push(e);
    }
    out.extend(Record::json(&FileReply::Listing {
        entries: page,
        more: false,
    }));
    out
}

pub(super) fn mkdir(root: &Path, raw: &str) -> Result<FileReply, Failure> {
    let rel = checked(raw)?;
    not_root(&rel, "create")?;
    let dir = open_root(root)?;
    dir.create_dir(rel.as_path())
        .map_err(|e| io_failure(raw, e))?;
    entry_reply(&rel, raw, dir.metadata(rel.as_path()))
}

pub(super) fn rename(root: &Path, from_raw: &str, to_raw: &str) -> Result<FileReply, Failure> {
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
    entry_reply(&to, to_raw, dir.symlink_metadata(to.as_path()))
}

/// The reply naming what `rel` (given as `raw`) now is, from its `metadata`.
fn entry_reply(
    rel: &Relative,
    raw: &str,
    metadata: std::io::Result<Metadata>,
) -> Result<FileReply, Failure> {
    let m = metadata.map_err(|e| io_failure(raw, e))?;
    Ok(FileReply::Entry(entry(
        rel.file_name().unwrap_or_default().into(),
        &m,
    )))
}

pub(super) fn delete(root: &Path, raw: &str) -> Result<FileReply, Failure> {
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
