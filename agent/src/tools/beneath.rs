//! Paths from the file explorer, resolved beneath a service's root and nowhere else.
//!
//! Two gates. [`check`] refuses what is hostile on its face, with a clear message: absolute
//! paths, `..`, NUL bytes, over-long names and paths. Then every operation goes through a
//! `cap_std::fs::Dir` opened on the root, which resolves each component itself (openat2 with
//! `RESOLVE_BENEATH` where the kernel has it) and fails on a symlink or `..` that would leave
//! the root, whatever happened to the tree since the check.

use std::path::{Component, Path, PathBuf};

/// Longest file name Linux allows.
pub const NAME_MAX: usize = 255;
/// Longest path we take.
pub const PATH_MAX: usize = 4096;

/// A path checked to be relative, plain and within limits; empty means the root itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relative(PathBuf);

impl Relative {
    pub fn as_path(&self) -> &Path {
        if self.0.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.0
        }
    }

    pub fn is_root(&self) -> bool {
        self.0.as_os_str().is_empty()
    }

    /// The last component, if any.
    pub fn file_name(&self) -> Option<&str> {
        self.0.file_name().and_then(|n| n.to_str())
    }
}

/// Checks `raw` (as sent by a browser or the CLI); the message says what was wrong.
pub fn check(raw: &str) -> Result<Relative, String> {
    if raw.contains('\0') {
        return Err("the path contains a NUL byte".into());
    }
    if raw.len() > PATH_MAX {
        return Err(format!("the path is longer than {PATH_MAX} bytes"));
    }
    if raw.starts_with('/') {
        return Err(
            "absolute paths are not allowed: paths are relative to the service's directory".into(),
        );
    }
    let mut out = PathBuf::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(name) => {
                if name.len() > NAME_MAX {
                    return Err(format!(
                        "a name in the path is longer than {NAME_MAX} bytes"
                    ));
                }
                out.push(name);
            }
            Component::CurDir => {}
            Component::ParentDir => return Err("`..` is not allowed in paths".into()),
            Component::RootDir | Component::Prefix(_) => {
                return Err("absolute paths are not allowed".into());
            }
        }
    }
    Ok(Relative(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_pass_and_hostile_ones_do_not() {
        assert!(check("").unwrap().is_root());
        assert!(check(".").unwrap().is_root());
        assert_eq!(check("a/./b/").unwrap().as_path(), Path::new("a/b"));
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "a\0b",
            &"x".repeat(256),
            &"a/".repeat(2100),
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }
}
