//! Which language runtime a service uses, named by the user or detected from the files in its
//! source. Detection only picks defaults: [`super::plan`] turns a runtime into build and start
//! commands, and the user can name the runtime and override both commands.

use std::path::Path;

/// The runtimes are part of the contract with Base (`proto::service`); this module only adds
/// detection.
pub use proto::service::Runtime;

/// Guesses the runtime from marker files at the top of `dir`, first match wins:
///
/// 1. `package.json` → node
/// 2. `requirements.txt`, `pyproject.toml` or `Pipfile` → python
/// 3. `go.mod` → go
/// 4. `composer.json` → php
/// 5. `Gemfile` → ruby
/// 6. `*.csproj` or `*.fsproj` → dotnet
/// 7. `pom.xml`, `build.gradle` or `build.gradle.kts` → java
/// 8. `Dockerfile` → docker
/// 9. `index.html` → static
///
/// A `Dockerfile` ranks below every language marker: many repositories ship one next to their
/// code for other hosts, and a native build starts faster and needs no Docker on the instance.
/// A user who wants Docker names the runtime. `package.json` ranks first because front-end
/// tooling often sits beside another language's files, and it is usually the part that serves.
/// `index.html` ranks last because sites built by a language toolchain keep one in their source.
pub fn detect(dir: &Path) -> Option<Runtime> {
    MARKERS
        .iter()
        .find(|(marker, _)| marker.in_dir(dir))
        .map(|&(_, runtime)| runtime)
}

/// A sign of a runtime at the top of the app's folder.
enum Marker {
    /// One of these files.
    Files(&'static [&'static str]),
    /// A file with one of these extensions.
    Extensions(&'static [&'static str]),
}

/// [`detect`]'s order, first match wins.
const MARKERS: [(Marker, Runtime); 9] = [
    (Marker::Files(&["package.json"]), Runtime::Node),
    (
        Marker::Files(&["requirements.txt", "pyproject.toml", "Pipfile"]),
        Runtime::Python,
    ),
    (Marker::Files(&["go.mod"]), Runtime::Go),
    (Marker::Files(&["composer.json"]), Runtime::Php),
    (Marker::Files(&["Gemfile"]), Runtime::Ruby),
    (Marker::Extensions(&["csproj", "fsproj"]), Runtime::Dotnet),
    (
        Marker::Files(&["pom.xml", "build.gradle", "build.gradle.kts"]),
        Runtime::Java,
    ),
    (Marker::Files(&["Dockerfile"]), Runtime::Docker),
    (Marker::Files(&["index.html"]), Runtime::Static),
];

impl Marker {
    fn in_dir(&self, dir: &Path) -> bool {
        match self {
            Marker::Files(names) => names.iter().any(|name| dir.join(name).is_file()),
            Marker::Extensions(exts) => std::fs::read_dir(dir).is_ok_and(|entries| {
                entries.flatten().any(|e| {
                    let path = e.path();
                    path.is_file()
                        && path
                            .extension()
                            .and_then(|x| x.to_str())
                            .is_some_and(|x| exts.contains(&x))
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        dir
    }

    fn detected(files: &[&str]) -> Option<Runtime> {
        detect(dir_with(files).path())
    }

    #[test]
    fn every_marker_file_detects_its_runtime() {
        let cases: &[(&str, Runtime)] = &[
            ("package.json", Runtime::Node),
            ("requirements.txt", Runtime::Python),
            ("pyproject.toml", Runtime::Python),
            ("Pipfile", Runtime::Python),
            ("go.mod", Runtime::Go),
            ("composer.json", Runtime::Php),
            ("Gemfile", Runtime::Ruby),
            ("web.csproj", Runtime::Dotnet),
            ("App.fsproj", Runtime::Dotnet),
            ("pom.xml", Runtime::Java),
            ("build.gradle", Runtime::Java),
            ("build.gradle.kts", Runtime::Java),
            ("Dockerfile", Runtime::Docker),
            ("index.html", Runtime::Static),
        ];
        for (file, runtime) in cases {
            assert_eq!(detected(&[file]), Some(*runtime), "marker {file}");
        }
    }

    #[test]
    fn no_marker_detects_nothing() {
        assert_eq!(detected(&[]), None);
        assert_eq!(detected(&["README.md", "main.rs"]), None);
    }

    #[test]
    fn a_directory_named_like_a_marker_is_not_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("package.json")).unwrap();
        std::fs::create_dir(dir.path().join("x.csproj")).unwrap();
        assert_eq!(detect(dir.path()), None);
    }

    #[test]
    fn language_markers_win_over_dockerfile_and_index_html() {
        assert_eq!(
            detected(&["Dockerfile", "go.mod", "index.html"]),
            Some(Runtime::Go)
        );
        assert_eq!(
            detected(&["Dockerfile", "index.html"]),
            Some(Runtime::Docker)
        );
        assert_eq!(
            detected(&["requirements.txt", "package.json"]),
            Some(Runtime::Node)
        );
        assert_eq!(detected(&["pom.xml", "Gemfile"]), Some(Runtime::Ruby));
    }
}
