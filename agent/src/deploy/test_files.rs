//! Folders of files for the deploy tests, written once: an app's checkout from `(path, contents)`
//! pairs, and executable shell scripts that stand in for tools on a `PATH`. Test-only.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes each `(path, contents)` below `dir`, making the folders a path needs.
pub(crate) fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, contents) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

/// A temp folder holding `files` (see [`write`]), removed with it.
pub(crate) fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    dir
}

/// An executable `dir/name` that runs `body` with `/bin/sh`.
pub(crate) fn script(dir: &Path, name: &str, body: &str) {
    let file = dir.join(name);
    std::fs::write(&file, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `script` with `sh -c` in `dir`, where `dir/bin` (the stand-in tools a test made) comes
/// first on a `PATH` of otherwise only the system's own folders.
pub(crate) fn sh_in(dir: &Path, script: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", dir.join("bin").display()),
        )
        .output()
        .unwrap()
}
