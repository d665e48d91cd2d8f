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

type Files<'a> = &'a [(&'a str, &'a str)];

/// Node: `engines.node`, then `.nvmrc`, then `.node-version`. Python: `.python-version`,
/// `runtime.txt`, then `pyproject.toml`. Go: `toolchain`, then the `go` line, both as at least.
/// Ruby: `.ruby-version`, then the Gemfile. Aliases and empty files name no version.
#[test]
fn each_runtime_reads_its_version_files_in_order() {
    let engines = r#"{"engines": {"node": ">=18 <21"}}"#;
    let requires = "[project]\nrequires-python = \">=3.9,<3.13\"\n";
    let poetry = "[tool.poetry.dependencies]\npython = \"^3.10\"\n";
    let go_mod = "module x\n\ngo 1.22\n\ntoolchain go1.22.3\n";
    let gemfile = "source \"https://rubygems.org\"\nruby '~> 3.2', '>= 3.2.1'\ngem 'rails'\n";
    // What each folder wants, as `range (source)`; blank where no file names a version.
    let cases: [(Runtime, Files, &str); 15] = [
        (
            Runtime::Node,
            &[("package.json", engines), (".nvmrc", "22")],
            ">=18 <21 (engines.node in package.json)",
        ),
        (
            Runtime::Node,
            &[("package.json", "{}"), (".nvmrc", "v20.11.1\n")],
            "20.11.1 (.nvmrc)",
        ),
        (
            Runtime::Node,
            &[(".nvmrc", "lts/*\n"), (".node-version", "20")],
            "20 (.node-version)",
        ),
        (Runtime::Node, &[(".nvmrc", "lts/iron")], ""),
        (Runtime::Node, &[("package.json", "{}")], ""),
        (
            Runtime::Python,
            &[(".python-version", "3.12\n3.11\n")],
            "3.12 (.python-version)",
        ),
        (
            Runtime::Python,
            &[("runtime.txt", "python-3.12.1\n")],
            "3.12.1 (runtime.txt)",
        ),
        (
            Runtime::Python,
            &[("pyproject.toml", requires)],
            ">=3.9,<3.13 (requires-python in pyproject.toml)",
        ),
        (
            Runtime::Python,
            &[("pyproject.toml", poetry)],
            "^3.10 (tool.poetry.dependencies.python in pyproject.toml)",
        ),
        (Runtime::Python, &[(".python-version", "system")], ""),
        (
            Runtime::Go,
            &[("go.mod", go_mod)],
            ">=1.22.3 (toolchain in go.mod)",
        ),
        (
            Runtime::Go,
            &[("go.mod", "module x\ngo 1.21\n")],
            ">=1.21 (the go line of go.mod)",
        ),
        (Runtime::Go, &[("go.mod", "module x\n")], ""),
        (
            Runtime::Ruby,
            &[(".ruby-version", "ruby-3.2.2\n")],
            "3.2.2 (.ruby-version)",
        ),
        (
            Runtime::Ruby,
            &[("Gemfile", gemfile)],
            "~> 3.2, >= 3.2.1 (the ruby line of the Gemfile)",
        ),
    ];
    for (runtime, files, want) in cases {
        let got = wants(runtime, files).map_or(String::new(), |(r, s)| format!("{r} ({s})"));
        assert_eq!(got, want, "{runtime} in {files:?}");
    }
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
