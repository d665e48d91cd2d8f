//! The default plans against real folders: one test per runtime and lockfile variant, and the
//! user's overrides.

use super::*;
use crate::deploy::test_files::{dir_with, sh_in};

pub(crate) fn host(dir: &Path) -> Host {
    Host::new(dir.join(".cache"), dir.to_path_buf())
}

/// The plan's start command.
pub(crate) fn start(p: &Plan) -> Option<&str> {
    p.start.as_ref().map(|s| s.run.as_str())
}

fn plan_for(runtime: Runtime, files: &[(&str, &str)]) -> Plan {
    let dir = dir_with(files);
    plan(runtime, dir.path(), &host(dir.path()))
}

#[test]
fn node_uses_npm_and_only_the_scripts_that_exist() {
    let scripts = r#"{"scripts": {"build": "vite build", "start": "node dist/server.js"}}"#;
    let p = plan_for(
        Runtime::Node,
        &[("package.json", scripts), ("package-lock.json", "{}")],
    );
    assert_eq!(p.build, ["npm ci", "npm run build"]);
    assert_eq!(start(&p), Some("npm start"));
    assert_eq!(p.toolchain, ["node", "npm"]);

    let p = plan_for(
        Runtime::Node,
        &[("package.json", r#"{"main": "my app.js"}"#)],
    );
    assert_eq!(p.build, ["npm install"]);
    assert_eq!(start(&p), Some("node 'my app.js'"));

    // Yarn, pnpm and Bun: node_pm_tests.rs.
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
    assert_eq!(start(&p), Some("gunicorn -b 0.0.0.0:$PORT app:app"));
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
    assert_eq!(p.build, ["go build -o app ."]);
    assert_eq!(p.start.unwrap().run, "./app");

    let p = plan_for(
        Runtime::Php,
        &[("composer.json", "{}"), ("public/index.php", "")],
    );
    assert_eq!(p.build, ["composer install --no-dev --no-interaction"]);
    assert_eq!(start(&p), Some("php -S 0.0.0.0:$PORT -t public"));
    assert_eq!(p.toolchain, ["php", "composer"]);
    let p = plan_for(Runtime::Php, &[("index.php", "")]);
    assert!(p.build.is_empty());
    assert_eq!(start(&p), Some("php -S 0.0.0.0:$PORT -t ."));
    assert_eq!(p.toolchain, ["php"]);

    let p = plan_for(Runtime::Ruby, &[("Gemfile", "")]);
    assert_eq!(p.build, ["bundle install"]);
    assert_eq!(start(&p), Some("bundle exec rackup -p $PORT -o 0.0.0.0"));
    let p = plan_for(
        Runtime::Ruby,
        &[("Gemfile", ""), ("Procfile", "web: bundle exec puma")],
    );
    assert_eq!(start(&p), Some("bundle exec puma"));

    let p = plan_for(Runtime::Dotnet, &[("Shop.Web.csproj", "")]);
    assert_eq!(p.build, ["dotnet publish -c Release -o out"]);
    assert_eq!(start(&p), Some("dotnet out/Shop.Web.dll"));
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
    let made = sh_in(
        dir.path(),
        r#"mkdir bin && printf '#!/bin/sh\necho "$@"\n' > bin/java && chmod +x bin/java"#,
    );
    assert!(made.status.success(), "{made:?}");
    let start = plan(Runtime::Java, dir.path(), &host(dir.path()))
        .start
        .unwrap()
        .run;
    let out = sh_in(dir.path(), &start);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "-jar target/shop-1.0.jar"
    );
}

#[test]
fn static_and_docker_have_nothing_to_build_or_start() {
    for runtime in [Runtime::Static, Runtime::Docker] {
        let p = plan_for(runtime, &[("index.html", ""), ("Procfile", "web: x")]);
        assert_eq!(p.build, Vec::<Step>::new(), "{runtime}");
        assert_eq!(p.start, None, "{runtime}");
    }
}

#[test]
fn user_commands_replace_the_defaults_and_blank_ones_do_not() {
    let dir = dir_with(&[(
        "package.json",
        r#"{"scripts": {"build": "b", "start": "s"}}"#,
    )]);
    let p = plan(Runtime::Node, dir.path(), &host(dir.path())).with_overrides(&Overrides {
        build_command: Some("make all".into()),
        start_command: Some("./serve --port $PORT".into()),
        kind: None,
    });
    assert_eq!(p.build, ["make all"]);
    assert_eq!(start(&p), Some("./serve --port $PORT"));

    let p = plan(Runtime::Node, dir.path(), &host(dir.path())).with_overrides(&Overrides {
        build_command: Some("  ".into()),
        start_command: None,
        kind: None,
    });
    assert_eq!(p.build, ["npm install", "npm run build"]);
    assert_eq!(start(&p), Some("npm start"));
}

#[test]
fn rails_gets_production_settings_assets_and_a_generated_secret_key_base() {
    let p = plan_for(
        Runtime::Ruby,
        &[
            (
                "Gemfile",
                "source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\n",
            ),
            ("config/application.rb", ""),
            ("app/assets/config/manifest.js", ""),
        ],
    );
    assert_eq!(
        p.build,
        ["bundle install", "bundle exec rails assets:precompile"]
    );
    assert_eq!(
        p.start.unwrap().run,
        "bundle exec rails server -b 0.0.0.0 -p $PORT"
    );
    assert_eq!(p.env["RAILS_ENV"], "production");
    assert_eq!(p.generated_secrets, ["SECRET_KEY_BASE"]);

    // A plain Rack app keeps rackup and gets no Rails settings.
    let p = plan_for(
        Runtime::Ruby,
        &[("Gemfile", "gem 'sinatra'\n"), ("config.ru", "")],
    );
    assert!(p.env.is_empty() && p.generated_secrets.is_empty());
}

#[test]
fn spring_and_aspnet_read_the_port_from_their_own_variables() {
    let p = plan_for(Runtime::Java, &[("pom.xml", "")]);
    assert_eq!(p.port_env, [("SERVER_PORT".to_owned(), "$PORT".to_owned())]);
    let p = plan_for(Runtime::Dotnet, &[("Api.csproj", "")]);
    assert_eq!(
        p.port_env,
        [(
            "ASPNETCORE_URLS".to_owned(),
            "http://127.0.0.1:$PORT".to_owned()
        )]
    );
}

#[test]
fn a_procfile_gives_start_release_and_makes_a_worker_when_it_has_no_web_line() {
    let p = plan_for(
        Runtime::Node,
        &[
            ("package.json", "{}"),
            (
                "Procfile",
                "# comment: x\nrelease: node migrate.js\nworker:  node jobs.js \n",
            ),
        ],
    );
    assert_eq!(p.kind, ServiceKind::Worker);
    assert_eq!(p.start.unwrap().run, "node jobs.js");
    assert_eq!(p.release.unwrap().run, "node migrate.js");

    let p = plan_for(
        Runtime::Node,
        &[
            ("package.json", "{}"),
            ("Procfile", "worker: node jobs.js\nweb: node web.js\n"),
        ],
    );
    assert_eq!(p.kind, ServiceKind::Web);
    assert_eq!(p.start.as_ref().unwrap().run, "node web.js");
    assert!(
        p.describe()
            .contains(&"start: node web.js  # Procfile web:".to_owned()),
        "{:?}",
        p.describe()
    );
    // The user's kind wins over the Procfile's hint.
    let p = p.with_overrides(&Overrides {
        kind: Some(ServiceKind::Worker),
        ..Overrides::default()
    });
    assert_eq!(p.kind, ServiceKind::Worker);
}
