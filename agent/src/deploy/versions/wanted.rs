//! Which version of its runtime an app asks for, read from the files each ecosystem keeps it
//! in (`engines.node`, `.nvmrc`, `.python-version`, `go.mod`, `global.json`, `pom.xml`, …), or
//! from the service's `runtime_version`, which wins over them all. Only reading: comparing with
//! the instance is [`super::check`]'s job.

use std::path::Path;

use proto::service::Runtime;

use super::range::Range;
use crate::deploy::plan::read_json;

mod java;
use java::java;

/// A version requirement and where it came from, for the messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub range: Range,
    /// `engines.node in package.json`, `.python-version`, `runtime_version in the service
    /// settings`, …
    pub source: String,
}

/// Where the requirement comes from when the service's settings name one.
pub const SETTINGS: &str = "runtime_version in the service settings";

/// The version `runtime` should be for the app in `dir`: `over` (the service's
/// `runtime_version`) when given, else the first of the runtime's files that names one. `Err`
/// when that source says something that is not a version, naming it.
pub fn wanted(runtime: Runtime, dir: &Path, over: Option<&str>) -> Result<Option<Wanted>, String> {
    if matches!(runtime, Runtime::Static | Runtime::Docker) {
        return Ok(None);
    }
    if let Some(v) = over.map(str::trim).filter(|v| !v.is_empty()) {
        return parse(v, SETTINGS).map(Some);
    }
    let found = match runtime {
        Runtime::Node => node(dir),
        Runtime::Python => python(dir),
        Runtime::Go => go(dir),
        Runtime::Ruby => ruby(dir),
        Runtime::Dotnet => dotnet(dir),
        Runtime::Java => java(dir),
        Runtime::Php => php(dir),
        Runtime::Static | Runtime::Docker => None,
    };
    found
        .map(|(text, source)| parse(&text, &source))
        .transpose()
}

fn parse(text: &str, source: &str) -> Result<Wanted, String> {
    match Range::parse(text) {
        Ok(range) => Ok(Wanted {
            range,
            source: source.to_owned(),
        }),
        Err(e) => Err(format!(
            "{source} is {text:?}, which dployr cannot read as a version ({e}): fix it, or set \
             the service's runtime version"
        )),
    }
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name)).ok()
}

/// The first line that is not blank or a comment.
fn first_line(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The first line of a version file (`.nvmrc`, `.python-version`, …) without `prefix`, if it
/// is a version number rather than an alias (`lts/*`, `system`, `pypy3.10`).
fn version_file(dir: &Path, name: &str, prefix: &str) -> Option<(String, String)> {
    let text = read(dir, name)?;
    let line = first_line(&text)?.split_whitespace().next()?;
    let line = line.strip_prefix(prefix).unwrap_or(line);
    let line = line.strip_prefix(['v', 'V']).unwrap_or(line);
    line.starts_with(|c: char| c.is_ascii_digit())
        .then(|| (line.to_owned(), name.to_owned()))
}

fn node(dir: &Path) -> Option<(String, String)> {
    let pkg = read_json(&dir.join("package.json"));
    if let Some(v) = pkg["engines"]["node"]
        .as_str()
        .filter(|v| !v.trim().is_empty())
    {
        return Some((v.to_owned(), "engines.node in package.json".into()));
    }
    version_file(dir, ".nvmrc", "").or_else(|| version_file(dir, ".node-version", ""))
}

fn python(dir: &Path) -> Option<(String, String)> {
    if let Some(found) = version_file(dir, ".python-version", "") {
        return Some(found);
    }
    if let Some(found) = version_file(dir, "runtime.txt", "python-") {
        return Some(found);
    }
    let pyproject: toml::Table = read(dir, "pyproject.toml")?.parse().ok()?;
    let project = pyproject
        .get("project")
        .and_then(|p| p.get("requires-python"));
    if let Some(v) = project.and_then(|v| v.as_str()) {
        return Some((v.to_owned(), "requires-python in pyproject.toml".into()));
    }
    let poetry = pyproject
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.get("python"))
        .and_then(|v| v.as_str())?;
    Some((
        poetry.to_owned(),
        "tool.poetry.dependencies.python in pyproject.toml".into(),
    ))
}

/// `toolchain go1.22.3`, else `go 1.22`: both mean that version or newer.
fn go(dir: &Path) -> Option<(String, String)> {
    let text = read(dir, "go.mod")?;
    let directive = |name: &str| {
        text.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(name)).then(|| words.next()).flatten()
        })
    };
    if let Some(v) = directive("toolchain").and_then(|v| v.strip_prefix("go")) {
        return Some((format!(">={v}"), "toolchain in go.mod".into()));
    }
    let v = directive("go")?;
    Some((format!(">={v}"), "the go line of go.mod".into()))
}

fn ruby(dir: &Path) -> Option<(String, String)> {
    if let Some(found) = version_file(dir, ".ruby-version", "ruby-") {
        return Some(found);
    }
    let gemfile = read(dir, "Gemfile")?;
    let line = gemfile
        .lines()
        .map(str::trim)
        .find(|l| (l.starts_with("ruby ") || l.starts_with("ruby(")) && !l.contains("file:"))?;
    // `ruby "~> 3.2", ">= 3.2.1"`: every quoted string, all of which must hold.
    let quoted: Vec<&str> = line
        .split(['"', '\''])
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with(|c: char| c.is_ascii_digit() || "<>=~^".contains(c)))
        .collect();
    (!quoted.is_empty()).then(|| (quoted.join(", "), "the ruby line of the Gemfile".into()))
}

/// `sdk.version` in `global.json`; the SDK rolls forward within its major version unless
/// `rollForward` says otherwise.
fn dotnet(dir: &Path) -> Option<(String, String)> {
    let global = read_json(&dir.join("global.json"));
    let v = global["sdk"]["version"].as_str()?.trim();
    let major = v.split('.').next()?.parse::<u64>().ok()?;
    let range = match global["sdk"]["rollForward"].as_str().unwrap_or_default() {
        "disable" => v.to_owned(),
        "latestMajor" | "major" => format!(">={v}"),
        _ => format!(">={v} <{}", major + 1),
    };
    Some((range, "sdk.version in global.json".into()))
}

/// `require.php` in `composer.json`. Composer's `~8.1` means `>=8.1 <9`, which is `^8.1`
/// elsewhere.
fn php(dir: &Path) -> Option<(String, String)> {
    let composer = read_json(&dir.join("composer.json"));
    let v = composer["require"]["php"].as_str()?.trim();
    let v: Vec<String> = v
        .split(' ')
        .map(|t| match t.strip_prefix('~') {
            Some(rest)
                if !rest.starts_with(['>', '='])
                    && rest.matches('.').count() == 1
                    && !rest.contains('*') =>
            {
                format!("^{rest}")
            }
            _ => t.to_owned(),
        })
        .collect();
    Some((v.join(" "), "require.php in composer.json".into()))
}

#[cfg(test)]
mod tests;
