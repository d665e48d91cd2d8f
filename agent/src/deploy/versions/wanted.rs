//! Which version of its runtime an app asks for, read from the files each ecosystem keeps it
//! in (`engines.node`, `.nvmrc`, `.python-version`, `go.mod`, `global.json`, `pom.xml`, …), or
//! from the service's `runtime_version`, which wins over them all. Only reading: comparing with
//! the instance is [`super::check`]'s job.

use std::path::Path;

use proto::service::Runtime;

use super::range::Range;
use crate::deploy::plan::read_json;

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

/// The Java release the build compiles for, which any JDK of that version or newer can build.
fn java(dir: &Path) -> Option<(String, String)> {
    let (n, source) = pom(dir)
        .or_else(|| gradle(dir, "build.gradle.kts"))
        .or_else(|| gradle(dir, "build.gradle"))?;
    Some((format!(">={n}"), source))
}

/// `8` for `1.8`, `17` for `17`.
fn java_release(v: &str) -> Option<String> {
    let v = v.trim().trim_matches(['\'', '"']);
    let v = v.strip_prefix("1.").filter(|r| !r.is_empty()).unwrap_or(v);
    let n: String = v.chars().take_while(char::is_ascii_digit).collect();
    (!n.is_empty()).then_some(n)
}

fn pom(dir: &Path) -> Option<(String, String)> {
    let pom = read(dir, "pom.xml")?;
    let tag = |name: &str| {
        let start = pom.find(&format!("<{name}>"))? + name.len() + 2;
        let end = pom[start..].find('<')? + start;
        Some(pom[start..end].trim().to_owned())
    };
    [
        "maven.compiler.release",
        "release",
        "java.version",
        "maven.compiler.source",
    ]
    .into_iter()
    .find_map(|name| {
        let mut v = tag(name)?;
        // `<release>${java.version}</release>`: one level of property.
        if let Some(prop) = v.strip_prefix("${").and_then(|p| p.strip_suffix('}')) {
            v = tag(prop)?;
        }
        Some((java_release(&v)?, format!("<{name}> in pom.xml")))
    })
}

fn gradle(dir: &Path, file: &str) -> Option<(String, String)> {
    let text = read(dir, file)?;
    let after = |needle: &str| {
        let i = text.find(needle)? + needle.len();
        Some(&text[i..])
    };
    if let Some(v) = after("JavaLanguageVersion.of(").and_then(java_release) {
        return Some((v, format!("JavaLanguageVersion.of in {file}")));
    }
    if let Some(v) = after("jvmToolchain(").and_then(java_release) {
        return Some((v, format!("jvmToolchain in {file}")));
    }
    for needle in ["sourceCompatibility", "targetCompatibility"] {
        let Some(rest) = after(needle) else { continue };
        let value = rest.trim_start().trim_start_matches('=').trim_start();
        let value = value.strip_prefix("JavaVersion.").unwrap_or(value);
        let value = value
            .strip_prefix("VERSION_")
            .map_or_else(|| value.to_owned(), |v| v.replacen("1_", "1.", 1));
        if let Some(v) = java_release(&value) {
            return Some((v, format!("{needle} in {file}")));
        }
    }
    None
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
mod tests {
    use super::*;

    /// What `runtime` wants in a folder with `files`: the range as text and its source.
    fn wants(runtime: Runtime, files: &[(&str, &str)]) -> Option<(String, String)> {
        let dir = crate::deploy::test_files::dir_with(files);
        wanted(runtime, dir.path(), None)
            .unwrap()
            .map(|w| (w.range.to_string(), w.source))
    }

    fn pair(range: &str, source: &str) -> Option<(String, String)> {
        Some((range.into(), source.into()))
    }

    #[test]
    fn node_reads_engines_then_nvmrc_then_node_version() {
        let pkg = r#"{"engines": {"node": ">=18 <21"}}"#;
        assert_eq!(
            wants(Runtime::Node, &[("package.json", pkg), (".nvmrc", "22")]),
            pair(">=18 <21", "engines.node in package.json")
        );
        assert_eq!(
            wants(
                Runtime::Node,
                &[("package.json", "{}"), (".nvmrc", "v20.11.1\n")]
            ),
            pair("20.11.1", ".nvmrc")
        );
        assert_eq!(
            wants(
                Runtime::Node,
                &[(".nvmrc", "lts/*\n"), (".node-version", "20")]
            ),
            pair("20", ".node-version")
        );
        assert_eq!(wants(Runtime::Node, &[(".nvmrc", "lts/iron")]), None);
        assert_eq!(wants(Runtime::Node, &[("package.json", "{}")]), None);
    }

    #[test]
    fn python_reads_python_version_runtime_txt_and_pyproject() {
        assert_eq!(
            wants(Runtime::Python, &[(".python-version", "3.12\n3.11\n")]),
            pair("3.12", ".python-version")
        );
        assert_eq!(
            wants(Runtime::Python, &[("runtime.txt", "python-3.12.1\n")]),
            pair("3.12.1", "runtime.txt")
        );
        assert_eq!(
            wants(
                Runtime::Python,
                &[(
                    "pyproject.toml",
                    "[project]\nrequires-python = \">=3.9,<3.13\"\n"
                )]
            ),
            pair(">=3.9,<3.13", "requires-python in pyproject.toml")
        );
        assert_eq!(
            wants(
                Runtime::Python,
                &[(
                    "pyproject.toml",
                    "[tool.poetry.dependencies]\npython = \"^3.10\"\n"
                )]
            ),
            pair("^3.10", "tool.poetry.dependencies.python in pyproject.toml")
        );
        assert_eq!(
            wants(Runtime::Python, &[(".python-version", "system")]),
            None
        );
    }

    #[test]
    fn go_reads_toolchain_then_the_go_line_as_at_least() {
        let both = "module x\n\ngo 1.22\n\ntoolchain go1.22.3\n";
        assert_eq!(
            wants(Runtime::Go, &[("go.mod", both)]),
            pair(">=1.22.3", "toolchain in go.mod")
        );
        assert_eq!(
            wants(Runtime::Go, &[("go.mod", "module x\ngo 1.21\n")]),
            pair(">=1.21", "the go line of go.mod")
        );
        assert_eq!(wants(Runtime::Go, &[("go.mod", "module x\n")]), None);
    }

    #[test]
    fn ruby_reads_ruby_version_then_the_gemfile() {
        assert_eq!(
            wants(Runtime::Ruby, &[(".ruby-version", "ruby-3.2.2\n")]),
            pair("3.2.2", ".ruby-version")
        );
        let gemfile = "source \"https://rubygems.org\"\nruby '~> 3.2', '>= 3.2.1'\ngem 'rails'\n";
        assert_eq!(
            wants(Runtime::Ruby, &[("Gemfile", gemfile)]),
            pair("~> 3.2, >= 3.2.1", "the ruby line of the Gemfile")
        );
    }

    #[test]
    fn dotnet_reads_global_json_and_rolls_forward_within_the_major() {
        let global = r#"{"sdk": {"version": "8.0.100"}}"#;
        assert_eq!(
            wants(Runtime::Dotnet, &[("global.json", global)]),
            pair(">=8.0.100 <9", "sdk.version in global.json")
        );
        let exact = r#"{"sdk": {"version": "8.0.100", "rollForward": "disable"}}"#;
        assert_eq!(
            wants(Runtime::Dotnet, &[("global.json", exact)]).unwrap().0,
            "8.0.100"
        );
    }

    #[test]
    fn java_reads_the_release_from_maven_and_gradle_as_at_least() {
        let pom = |body: &str| format!("<project><properties>{body}</properties></project>");
        let cases = [
            (
                pom("<java.version>21</java.version>"),
                ">=21",
                "<java.version> in pom.xml",
            ),
            (
                pom("<maven.compiler.release>17</maven.compiler.release>"),
                ">=17",
                "<maven.compiler.release> in pom.xml",
            ),
            (
                pom("<maven.compiler.source>1.8</maven.compiler.source>"),
                ">=8",
                "<maven.compiler.source> in pom.xml",
            ),
            (
                "<project><properties><jdk>17</jdk></properties><build><plugins><plugin>\
                 <artifactId>maven-compiler-plugin</artifactId><configuration>\
                 <release>${jdk}</release></configuration></plugin></plugins></build></project>"
                    .to_owned(),
                ">=17",
                "<release> in pom.xml",
            ),
        ];
        for (body, range, source) in cases {
            assert_eq!(
                wants(Runtime::Java, &[("pom.xml", &body)]),
                pair(range, source)
            );
        }
        let gradle = [
            (
                "build.gradle.kts",
                "java { toolchain { languageVersion.set(JavaLanguageVersion.of(21)) } }",
                "JavaLanguageVersion.of in build.gradle.kts",
                ">=21",
            ),
            (
                "build.gradle",
                "sourceCompatibility = '17'\n",
                "sourceCompatibility in build.gradle",
                ">=17",
            ),
            (
                "build.gradle",
                "java {\n  sourceCompatibility = JavaVersion.VERSION_1_8\n}\n",
                "sourceCompatibility in build.gradle",
                ">=8",
            ),
        ];
        for (file, body, source, range) in gradle {
            assert_eq!(wants(Runtime::Java, &[(file, body)]), pair(range, source));
        }
    }

    #[test]
    fn php_reads_composer_json_with_composers_tilde() {
        let composer = |v: &str| format!(r#"{{"require": {{"php": "{v}"}}}}"#);
        assert_eq!(
            wants(Runtime::Php, &[("composer.json", &composer(">=8.1"))]),
            pair(">=8.1", "require.php in composer.json")
        );
        assert_eq!(
            wants(Runtime::Php, &[("composer.json", &composer("~8.1"))])
                .unwrap()
                .0,
            "^8.1"
        );
        assert_eq!(wants(Runtime::Php, &[("composer.json", "{}")]), None);
    }

    #[test]
    fn the_settings_win_and_nonsense_is_an_error_naming_its_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".nvmrc"), "18").unwrap();
        let w = wanted(Runtime::Node, dir.path(), Some(" 20 "))
            .unwrap()
            .unwrap();
        assert_eq!(
            (w.range.to_string(), w.source.as_str()),
            ("20".into(), SETTINGS)
        );
        assert_eq!(
            wanted(Runtime::Node, dir.path(), Some(""))
                .unwrap()
                .unwrap()
                .source,
            ".nvmrc"
        );
        assert_eq!(
            wanted(Runtime::Docker, dir.path(), Some("20")).unwrap(),
            None
        );

        std::fs::write(
            dir.path().join("package.json"),
            r#"{"engines":{"node":"soon"}}"#,
        )
        .unwrap();
        let e = wanted(Runtime::Node, dir.path(), None).unwrap_err();
        assert!(
            e.starts_with("engines.node in package.json is \"soon\""),
            "{e}"
        );
    }
}
