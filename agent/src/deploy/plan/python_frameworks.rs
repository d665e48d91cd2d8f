//! The Python web frameworks' conventions, as Heroku and Render apply them: Django (its WSGI
//! module under gunicorn, `collectstatic` when the settings name a `STATIC_ROOT`), Flask (its
//! app object or `create_app` factory under gunicorn) and FastAPI (its app under uvicorn), each
//! with the server installed when the dependencies lack it. A `Procfile` `web:` line and the
//! user's own commands still win; without a framework the start command stays unset.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Plan, Procfile, Step};
use crate::deploy::process::quote;

/// Files that hold a Flask or FastAPI app by convention, in the order they are looked at.
const APP_FILES: [&str; 5] = ["app.py", "main.py", "run.py", "wsgi.py", "application.py"];

/// The names of the app's dependencies (normalized: lower case, `-` for `_` and `.`), as the
/// manifest the package manager reads lists them. A name with extras also appears with each
/// (`fastapi[standard]`). `super::python` reads them.
#[derive(Debug, Default)]
pub(super) struct Deps {
    /// The file they come from, to name in reasons (`requirements.txt`).
    pub source: &'static str,
    pub(super) names: BTreeSet<String>,
}

impl Deps {
    pub(super) fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// Adds the framework's build steps, start command and notes to a Python plan.
pub(super) fn apply(plan: &mut Plan, dir: &Path, deps: &Deps) {
    let web = Procfile::read(dir).web;
    if dir.join("manage.py").is_file() && deps.has("django") {
        django(plan, dir, deps, web.as_deref());
        return;
    }
    let frameworks: Vec<Framework> = [Framework::Flask, Framework::FastApi]
        .into_iter()
        .filter(|f| deps.has(f.package()))
        .collect();
    if frameworks.is_empty() {
        return;
    }
    let Some(app) = find_app(dir, &frameworks) else {
        let names: Vec<&str> = frameworks.iter().map(|f| f.name()).collect();
        plan.notes.push(format!(
            "framework: {} is a dependency, but no app object or create_app() was found in {} \
             (or one package folder); set a start command",
            names.join(" and "),
            APP_FILES.join(", ")
        ));
        return;
    };
    let what = if app.factory { "create_app()" } else { "app" };
    plan.notes.push(format!(
        "framework: {} ({what} in {})",
        app.framework.name(),
        app.file
    ));
    let server = app.framework.server();
    install_server(plan, deps, server, app.framework.name(), web.as_deref());
    let start = match (app.framework, app.factory) {
        (Framework::Flask, false) => format!(
            "gunicorn {} --bind 0.0.0.0:$PORT",
            quote(&format!("{}:{}", app.module, app.object))
        ),
        (Framework::Flask, true) => format!(
            "gunicorn {} --bind 0.0.0.0:$PORT",
            quote(&format!("{}:{}()", app.module, app.object))
        ),
        (Framework::FastApi, factory) => {
            // So a Procfile's bare `uvicorn main:app` listens on the release's port too.
            plan.port_env.push(("UVICORN_PORT".into(), "$PORT".into()));
            format!(
                "uvicorn {}:{}{} --host 0.0.0.0 --port $PORT",
                app.module,
                app.object,
                if factory { " --factory" } else { "" }
            )
        }
    };
    plan.start = Some(Step::new(
        start,
        format!(
            "{}: {server} serves {}:{} from {}",
            app.framework.name(),
            app.module,
            app.object,
            app.file
        ),
    ));
}

/// Django: `manage.py` names the settings module, the settings name the WSGI module.
fn django(plan: &mut Plan, dir: &Path, deps: &Deps, web: Option<&str>) {
    let manage = std::fs::read_to_string(dir.join("manage.py")).unwrap_or_default();
    let settings = quoted_after(&manage, "DJANGO_SETTINGS_MODULE");
    let settings_files = settings
        .as_deref()
        .map(|module| settings_files(dir, module))
        .unwrap_or_default();
    let texts: Vec<String> = settings_files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    let wsgi = texts
        .iter()
        .find_map(|t| assigned(t, "WSGI_APPLICATION"))
        .and_then(|a| quoted_after(&a, ""))
        .or_else(|| {
            let project = settings.as_deref()?.split('.').next()?;
            let found = dir.join(project).join("wsgi.py").is_file();
            found.then(|| format!("{project}.wsgi.application"))
        });
    plan.notes.push(format!(
        "framework: Django (settings {}, WSGI {})",
        settings.as_deref().unwrap_or("not found in manage.py"),
        wsgi.as_deref().unwrap_or("not found")
    ));
    install_server(plan, deps, "gunicorn", "Django", web);
    let static_root = texts.iter().any(|t| {
        assigned(t, "STATIC_ROOT").is_some_and(|value| value != "None" && !value.is_empty())
    });
    if static_root {
        plan.build.push(Step::new(
            ".venv/bin/python manage.py collectstatic --noinput",
            "Django with STATIC_ROOT",
        ));
    }
    if let Some(wsgi) = wsgi {
        // gunicorn looks for `application` by itself; another name needs `module:name`.
        let target = match wsgi.rsplit_once('.') {
            Some((module, "application")) => module.to_owned(),
            Some((module, object)) => format!("{module}:{object}"),
            None => wsgi.clone(),
        };
        plan.start = Some(Step::new(
            format!("gunicorn {target} --bind 0.0.0.0:$PORT"),
            format!("Django: gunicorn serves the WSGI module {wsgi}"),
        ));
    }
}

/// The files that make up Django's settings module: the module itself, and the other files of
/// a `settings` package (split settings import each other's names).
fn settings_files(dir: &Path, module: &str) -> Vec<PathBuf> {
    let path = dir.join(module.replace('.', "/"));
    let mut files = vec![path.with_extension("py"), path.join("__init__.py")];
    let package = [path.as_path(), path.parent().unwrap_or(dir)]
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "settings") && p.is_dir());
    if let Some(package) = package {
        let mut siblings: Vec<PathBuf> = std::fs::read_dir(package)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "py"))
            .collect();
        siblings.sort();
        files.extend(siblings);
    }
    files.retain(|f| f.is_file());
    files.dedup();
    files
}

/// Installs the server into the venv when the dependencies lack it, unless a `Procfile` starts
/// the app with something else.
fn install_server(plan: &mut Plan, deps: &Deps, server: &str, framework: &str, web: Option<&str>) {
    let listed = deps.has(server)
        || (server == "uvicorn" && (deps.has("fastapi[standard]") || deps.has("fastapi[all]")));
    let used = web.is_none_or(|web| web.contains(server));
    if !listed && used {
        plan.build.push(Step::new(
            format!(".venv/bin/pip install {server}"),
            format!("{server} serves {framework}; it is not in {}", deps.source),
        ));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framework {
    Flask,
    FastApi,
}

impl Framework {
    fn name(self) -> &'static str {
        match self {
            Framework::Flask => "Flask",
            Framework::FastApi => "FastAPI",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Framework::Flask => "flask",
            Framework::FastApi => "fastapi",
        }
    }

    fn server(self) -> &'static str {
        match self {
            Framework::Flask => "gunicorn",
            Framework::FastApi => "uvicorn",
        }
    }
}

/// Where a Flask or FastAPI app was found.
#[derive(Debug, PartialEq, Eq)]
struct App {
    framework: Framework,
    /// Relative to the app's folder: `app.py`, `api/main.py`.
    file: String,
    /// The import path: `app`, `api.main`.
    module: String,
    /// The variable, or the factory function's name.
    object: String,
    factory: bool,
}

/// The first of [`APP_FILES`] at the top of `dir`, then in its package folders (a folder with
/// an `__init__.py`, which is looked at too), that makes an app of one of `frameworks`.
fn find_app(dir: &Path, frameworks: &[Framework]) -> Option<App> {
    let mut candidates: Vec<(String, String)> = APP_FILES
        .iter()
        .map(|f| (f.to_string(), f.trim_end_matches(".py").to_string()))
        .collect();
    let mut packages: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("__init__.py").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| !n.starts_with('.') && is_identifier(n))
        .collect();
    packages.sort();
    for package in packages {
        for file in APP_FILES {
            let stem = file.trim_end_matches(".py");
            candidates.push((format!("{package}/{file}"), format!("{package}.{stem}")));
        }
        candidates.push((format!("{package}/__init__.py"), package.clone()));
    }
    candidates.into_iter().find_map(|(file, module)| {
        let text = std::fs::read_to_string(dir.join(&file)).ok()?;
        let (framework, object, factory) = app_in(&text, frameworks)?;
        Some(App {
            framework,
            file,
            module,
            object,
            factory,
        })
    })
}

/// The app a module's source makes: an assignment `name = Flask(...)` at the top level (the
/// constructor possibly as `flask.Flask`), else a `def create_app(` factory of the first of
/// `frameworks` the module mentions.
fn app_in(text: &str, frameworks: &[Framework]) -> Option<(Framework, String, bool)> {
    for line in text.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        // `app = Flask(...)` or `app: FastAPI = FastAPI(...)`.
        let name = name.split(':').next().unwrap_or_default().trim_end();
        if !is_identifier(name) || line.starts_with(char::is_whitespace) {
            continue;
        }
        let value = value.trim_start();
        for &f in frameworks {
            let class = f.name();
            let module = format!("{}.{class}(", f.package());
            if value.starts_with(&format!("{class}(")) || value.starts_with(&module) {
                return Some((f, name.to_owned(), false));
            }
        }
    }
    let factory = text.lines().any(|l| l.starts_with("def create_app("));
    let framework = frameworks
        .iter()
        .copied()
        .find(|f| text.contains(f.name()))?;
    factory.then(|| (framework, "create_app".to_owned(), true))
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The value of a top-level `NAME = value` line in Python source, trimmed.
fn assigned(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let value = rest.trim_start().strip_prefix('=')?;
        Some(
            value
                .split(" #")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        )
    })
}

/// The first string literal after `marker` in `text` (the quote that closes `marker` itself
/// skipped): `"mysite.settings"` after `"DJANGO_SETTINGS_MODULE`.
fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let rest = if marker.is_empty() {
        rest
    } else {
        rest.strip_prefix(['"', '\'']).unwrap_or(rest)
    };
    let open = rest.find(['"', '\''])?;
    let quote = &rest[open..open + 1];
    let body = &rest[open + 1..];
    let close = body.find(quote)?;
    Some(body[..close].to_owned()).filter(|s| !s.is_empty())
}
