//! How to build and start a service of a given [`Runtime`]: the defaults dployrd picks from the
//! files in the source, which the user's own build and start commands replace. A plan is data
//! only; running it is the orchestrator's job (with [`super::process`]).
//!
//! Over the ~400-line budget only through its tests (one per runtime and lockfile variant).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::process::quote;
use super::runtime::Runtime;

/// The commands for one release. Every command is a `sh -c` script run in the release directory
/// with `PORT` and the service's env set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Build steps, in order; the build fails at the first step that exits non-zero.
    pub build: Vec<String>,
    /// The service's command. `None` means either nothing to start ([`Runtime::Static`], served
    /// by dployrd) or that no default exists and the user must give a start command.
    pub start: Option<String>,
    /// Executables the default commands need on the instance's `PATH`; see
    /// [`super::check_toolchain`].
    pub toolchain: Vec<&'static str>,
    /// Directories in the release (relative) that go before `PATH` for the build and the
    /// service, so a Procfile's `gunicorn` finds the one in `.venv`.
    pub bin_dirs: Vec<&'static str>,
}

/// The user's replacements for the defaults. A build command replaces all default build steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    pub build_command: Option<String>,
    pub start_command: Option<String>,
}

impl Plan {
    fn empty() -> Plan {
        Plan {
            build: Vec::new(),
            start: None,
            toolchain: Vec::new(),
            bin_dirs: Vec::new(),
        }
    }

    /// Applies the user's commands. The toolchain stays: overrides almost always still call the
    /// runtime's tools, and anything else they need shows up as a failing step in the build log.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Plan {
        if let Some(build) = nonblank(&overrides.build_command) {
            self.build = vec![build.to_owned()];
        }
        if let Some(start) = nonblank(&overrides.start_command) {
            self.start = Some(start.to_owned());
        }
        self
    }
}

fn nonblank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The default plan for `runtime` from the files in `dir`. For every runtime but static and
/// docker, a `Procfile` `web:` line is the start command, as on the PaaSes users come from.
pub fn plan(runtime: Runtime, dir: &Path) -> Plan {
    let mut plan = match runtime {
        Runtime::Node => node(dir),
        Runtime::Python => python(dir),
        Runtime::Go => Plan {
            build: vec!["go build -o app .".into()],
            start: Some("./app".into()),
            toolchain: vec!["go"],
            bin_dirs: Vec::new(),
        },
        Runtime::Php => php(dir),
        Runtime::Ruby => Plan {
            build: vec!["bundle install".into()],
            start: Some("bundle exec rackup -p $PORT -o 0.0.0.0".into()),
            toolchain: vec!["ruby", "bundle"],
            bin_dirs: Vec::new(),
        },
        Runtime::Dotnet => dotnet(dir),
        Runtime::Java => java(dir),
        Runtime::Static | Runtime::Docker => return Plan::empty(),
    };
    if let Some(web) = procfile_web(dir) {
        plan.start = Some(web);
    }
    plan
}

fn node(dir: &Path) -> Plan {
    let (install, tool, run) = if dir.join("pnpm-lock.yaml").is_file() {
        ("pnpm install --frozen-lockfile", "pnpm", "pnpm run")
    } else if dir.join("yarn.lock").is_file() {
        ("yarn install --frozen-lockfile", "yarn", "yarn run")
    } else if dir.join("package-lock.json").is_file() {
        ("npm ci", "npm", "npm run")
    } else {
        ("npm install", "npm", "npm run")
    };
    let manifest: serde_json::Value = std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let has_script = |name: &str| manifest["scripts"][name].is_string();
    let mut build = vec![install.to_owned()];
    if has_script("build") {
        build.push(format!("{run} build"));
    }
    let start = if has_script("start") {
        Some(format!("{tool} start"))
    } else if let Some(main) = manifest["main"].as_str() {
        Some(format!("node {}", quote(main)))
    } else if dir.join("server.js").is_file() {
        // What `npm start` itself runs when there is no start script.
        Some("node server.js".to_owned())
    } else {
        None
    };
    Plan {
        build,
        start,
        toolchain: vec!["node", tool],
        bin_dirs: vec!["node_modules/.bin"],
    }
}

fn python(dir: &Path) -> Plan {
    let mut build = vec!["python3 -m venv .venv".to_owned()];
    if dir.join("requirements.txt").is_file() {
        build.push(".venv/bin/pip install -r requirements.txt".into());
    } else if dir.join("pyproject.toml").is_file() {
        build.push(".venv/bin/pip install .".into());
    } else if dir.join("Pipfile").is_file() {
        // pipenv reuses the project's `.venv` when told to keep it in the project.
        build.push(".venv/bin/pip install pipenv".into());
        build.push("PIPENV_VENV_IN_PROJECT=1 .venv/bin/pipenv install --deploy".into());
    }
    Plan {
        build,
        start: None,
        toolchain: vec!["python3"],
        bin_dirs: vec![".venv/bin"],
    }
}

fn php(dir: &Path) -> Plan {
    let mut build = Vec::new();
    let mut toolchain = vec!["php"];
    if dir.join("composer.json").is_file() {
        build.push("composer install --no-dev --no-interaction".into());
        toolchain.push("composer");
    }
    let docroot = if dir.join("public").is_dir() {
        "public"
    } else {
        "."
    };
    Plan {
        build,
        start: Some(format!("php -S 0.0.0.0:$PORT -t {docroot}")),
        toolchain,
        bin_dirs: vec!["vendor/bin"],
    }
}

fn dotnet(dir: &Path) -> Plan {
    // The assembly is named after the project file unless it sets <AssemblyName>; users with
    // one give a start command.
    let mut projects: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|x| x == "csproj" || x == "fsproj")
        })
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .collect();
    projects.sort();
    Plan {
        build: vec!["dotnet publish -c Release -o out".into()],
        start: projects
            .first()
            .map(|name| format!("dotnet {}", quote(&format!("out/{name}.dll")))),
        toolchain: vec!["dotnet"],
        bin_dirs: Vec::new(),
    }
}

fn java(dir: &Path) -> Plan {
    let has = |name: &str| dir.join(name).is_file();
    // The jar's name comes from the build file, so the start command finds it after the build,
    // skipping the side artifacts both tools put beside it.
    let (build, jars, toolchain) = if has("pom.xml") {
        if has("mvnw") {
            ("sh ./mvnw -q -DskipTests package", "target", vec!["java"])
        } else {
            ("mvn -q -DskipTests package", "target", vec!["java", "mvn"])
        }
    } else if has("gradlew") {
        ("sh ./gradlew build -x test", "build/libs", vec!["java"])
    } else {
        ("gradle build -x test", "build/libs", vec!["java", "gradle"])
    };
    let start = format!(
        "java -jar \"$(ls {jars}/*.jar | grep -v -e '-plain\\.jar$' -e '-sources\\.jar$' \
         -e '-javadoc\\.jar$' -e '/original-' | head -n 1)\""
    );
    Plan {
        build: vec![build.into()],
        start: Some(start),
        toolchain,
        bin_dirs: Vec::new(),
    }
}

/// The command of the `web:` process in a Heroku-style `Procfile`, if there is one.
fn procfile_web(dir: &Path) -> Option<String> {
    let procfile = std::fs::read_to_string(dir.join("Procfile")).ok()?;
    procfile.lines().find_map(|line| {
        let (name, command) = line.split_once(':')?;
        let command = command.trim();
        (name.trim() == "web" && !command.is_empty()).then(|| command.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        dir
    }

    fn plan_for(runtime: Runtime, files: &[(&str, &str)]) -> Plan {
        plan(runtime, dir_with(files).path())
    }

    #[test]
    fn node_uses_the_lockfiles_tool_and_only_the_scripts_that_exist() {
        let scripts = r#"{"scripts": {"build": "vite build", "start": "node dist/server.js"}}"#;
        let p = plan_for(
            Runtime::Node,
            &[("package.json", scripts), ("package-lock.json", "{}")],
        );
        assert_eq!(p.build, ["npm ci", "npm run build"]);
        assert_eq!(p.start.as_deref(), Some("npm start"));
        assert_eq!(p.toolchain, ["node", "npm"]);

        let p = plan_for(
            Runtime::Node,
            &[("package.json", r#"{"main": "my app.js"}"#)],
        );
        assert_eq!(p.build, ["npm install"]);
        assert_eq!(p.start.as_deref(), Some("node 'my app.js'"));

        let p = plan_for(
            Runtime::Node,
            &[("package.json", scripts), ("yarn.lock", "")],
        );
        assert_eq!(
            p.build,
            ["yarn install --frozen-lockfile", "yarn run build"]
        );
        assert_eq!(p.start.as_deref(), Some("yarn start"));
        assert_eq!(p.toolchain, ["node", "yarn"]);

        let p = plan_for(
            Runtime::Node,
            &[("package.json", "{}"), ("pnpm-lock.yaml", "")],
        );
        assert_eq!(p.build, ["pnpm install --frozen-lockfile"]);
        assert_eq!(p.start, None);
        assert_eq!(p.toolchain, ["node", "pnpm"]);
    }

    #[test]
    fn python_installs_into_a_venv_and_starts_from_the_procfile() {
        let p = plan_for(
            Runtime::Python,
            &[
                ("requirements.txt", "flask"),
                (
                    "Procfile",
                    "release: migrate\nweb: gunicorn -b 0.0.0.0:$PORT app:app\n",
                ),
            ],
        );
        assert_eq!(
            p.build,
            [
                "python3 -m venv .venv",
                ".venv/bin/pip install -r requirements.txt"
            ]
        );
        assert_eq!(
            p.start.as_deref(),
            Some("gunicorn -b 0.0.0.0:$PORT app:app")
        );
        assert_eq!(p.bin_dirs, [".venv/bin"]);

        let p = plan_for(Runtime::Python, &[("pyproject.toml", "")]);
        assert_eq!(p.build[1], ".venv/bin/pip install .");
        assert_eq!(
            p.start, None,
            "no Procfile: the user must give a start command"
        );
    }

    #[test]
    fn go_php_ruby_and_dotnet_defaults() {
        let p = plan_for(Runtime::Go, &[("go.mod", "module x")]);
        assert_eq!(
            (p.build, p.start),
            (vec!["go build -o app .".to_owned()], Some("./app".into()))
        );

        let p = plan_for(
            Runtime::Php,
            &[("composer.json", "{}"), ("public/index.php", "")],
        );
        assert_eq!(p.build, ["composer install --no-dev --no-interaction"]);
        assert_eq!(p.start.as_deref(), Some("php -S 0.0.0.0:$PORT -t public"));
        assert_eq!(p.toolchain, ["php", "composer"]);
        let p = plan_for(Runtime::Php, &[("index.php", "")]);
        assert!(p.build.is_empty());
        assert_eq!(p.start.as_deref(), Some("php -S 0.0.0.0:$PORT -t ."));
        assert_eq!(p.toolchain, ["php"]);

        let p = plan_for(Runtime::Ruby, &[("Gemfile", "")]);
        assert_eq!(p.build, ["bundle install"]);
        assert_eq!(
            p.start.as_deref(),
            Some("bundle exec rackup -p $PORT -o 0.0.0.0")
        );
        let p = plan_for(
            Runtime::Ruby,
            &[("Gemfile", ""), ("Procfile", "web: bundle exec puma")],
        );
        assert_eq!(p.start.as_deref(), Some("bundle exec puma"));

        let p = plan_for(Runtime::Dotnet, &[("Shop.Web.csproj", "")]);
        assert_eq!(p.build, ["dotnet publish -c Release -o out"]);
        assert_eq!(p.start.as_deref(), Some("dotnet out/Shop.Web.dll"));
    }

    #[test]
    fn java_picks_the_build_tool_and_starts_the_built_jar() {
        let p = plan_for(Runtime::Java, &[("pom.xml", "")]);
        assert_eq!(p.build, ["mvn -q -DskipTests package"]);
        assert_eq!(p.toolchain, ["java", "mvn"]);
        let p = plan_for(Runtime::Java, &[("build.gradle.kts", ""), ("gradlew", "")]);
        assert_eq!(p.build, ["sh ./gradlew build -x test"]);
        assert_eq!(p.toolchain, ["java"]);

        // Run the real start command against the files Maven leaves, with a `java` that echoes
        // its arguments: the command must choose the application jar.
        let dir = dir_with(&[
            ("pom.xml", ""),
            ("target/original-shop-1.0.jar", ""),
            ("target/shop-1.0.jar", ""),
            ("target/shop-1.0-sources.jar", ""),
        ]);
        // Written by a child process: a file this process wrote could still be open in a
        // concurrently forked test child, and exec would fail with ETXTBSY.
        let made = std::process::Command::new("sh")
            .arg("-c")
            .arg(r#"mkdir bin && printf '#!/bin/sh\necho "$@"\n' > bin/java && chmod +x bin/java"#)
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(made.success());
        let start = plan(Runtime::Java, dir.path()).start.unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&start)
            .current_dir(dir.path())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", dir.path().join("bin").display()),
            )
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "-jar target/shop-1.0.jar"
        );
    }

    #[test]
    fn static_and_docker_have_nothing_to_build_or_start() {
        for runtime in [Runtime::Static, Runtime::Docker] {
            let p = plan_for(runtime, &[("index.html", ""), ("Procfile", "web: x")]);
            assert_eq!(p, Plan::empty(), "{runtime}");
        }
    }

    #[test]
    fn user_commands_replace_the_defaults_and_blank_ones_do_not() {
        let dir = dir_with(&[(
            "package.json",
            r#"{"scripts": {"build": "b", "start": "s"}}"#,
        )]);
        let p = plan(Runtime::Node, dir.path()).with_overrides(&Overrides {
            build_command: Some("make all".into()),
            start_command: Some("./serve --port $PORT".into()),
        });
        assert_eq!(p.build, ["make all"]);
        assert_eq!(p.start.as_deref(), Some("./serve --port $PORT"));

        let p = plan(Runtime::Node, dir.path()).with_overrides(&Overrides {
            build_command: Some("  ".into()),
            start_command: None,
        });
        assert_eq!(p.build, ["npm install", "npm run build"]);
        assert_eq!(p.start.as_deref(), Some("npm start"));
    }
}
