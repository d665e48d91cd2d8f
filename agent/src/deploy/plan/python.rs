//! Python: a virtualenv in the app's folder and the dependencies installed into it by the
//! package manager the repository's files name (`uv.lock` → uv, `poetry.lock` or
//! `[tool.poetry]` → Poetry, `requirements.txt` → pip, `Pipfile` → pipenv, another
//! `pyproject.toml` → `pip install .`), with every download cache under dployrd's cache folder
//! so the next deploy is fast. The framework conventions (Django, Flask, FastAPI) are in
//! [`super::python_frameworks`]; this module also reads the dependency names they look for
//! (its `Deps`).

use std::collections::BTreeSet;
use std::path::Path;

use proto::service::ServiceKind;

use super::python_frameworks::{self, Deps};
use super::{Host, Plan, Step};
use crate::deploy::process::quote;

pub(super) fn plan(dir: &Path, host: &Host) -> Plan {
    let python = &host.python;
    let cache = |sub: &str| host.cache_dir.join(sub).display().to_string();
    let mut plan = Plan {
        build: vec![Step::new(
            format!("{python} -m venv .venv"),
            "every Python app gets its own virtualenv",
        )],
        toolchain: vec![python.clone()],
        bin_dirs: vec![".venv/bin".into()],
        ..Plan::empty(ServiceKind::Web)
    };
    plan.env.insert("PIP_CACHE_DIR".into(), cache("pip"));
    plan.env
        .insert("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into());

    let has = |name: &str| dir.join(name).is_file();
    let pyproject = std::fs::read_to_string(dir.join("pyproject.toml")).ok();
    let poetry_section = pyproject.as_deref().is_some_and(|t| {
        t.lines()
            .any(|l| l.trim_start().starts_with("[tool.poetry"))
    });
    let manager = if pyproject.is_some() && has("uv.lock") {
        Manager::Uv
    } else if pyproject.is_some() && has("poetry.lock") {
        Manager::Poetry("poetry.lock")
    } else if has("requirements.txt") {
        Manager::Pip
    } else if poetry_section {
        Manager::Poetry("[tool.poetry] in pyproject.toml")
    } else if pyproject.is_some() {
        Manager::PipProject
    } else if has("Pipfile") {
        Manager::Pipenv
    } else {
        Manager::None
    };
    if has("requirements.txt") && !matches!(manager, Manager::Pip) {
        plan.notes.push(format!(
            "requirements.txt is not used: {} names the dependencies",
            manager.manifest()
        ));
    }
    match manager {
        Manager::Uv => {
            let into_venv = ("UV_PROJECT_ENVIRONMENT", ".venv");
            let install = "sync --frozen --no-dev";
            let why = "uv.lock: the locked versions, without the dev group";
            tool_installs(&mut plan, host, "uv", into_venv, Step::new(install, why));
            plan.package_manager = Some("uv (uv.lock)".into());
        }
        Manager::Poetry(why) => {
            let into_venv = ("POETRY_VIRTUALENVS_IN_PROJECT", "true");
            let install = "install --only main --no-root --no-interaction";
            let step = Step::new(install, format!("{why}: the main group into .venv"));
            tool_installs(&mut plan, host, "poetry", into_venv, step);
            plan.package_manager = Some(format!("poetry ({why})"));
        }
        Manager::Pip => {
            plan.build.push(Step::new(
                ".venv/bin/pip install -r requirements.txt",
                "requirements.txt",
            ));
            plan.package_manager = Some("pip (requirements.txt)".into());
        }
        Manager::PipProject => {
            plan.build.push(Step::new(
                ".venv/bin/pip install .",
                "pyproject.toml without uv.lock, poetry.lock or [tool.poetry]",
            ));
            plan.package_manager = Some("pip (pyproject.toml)".into());
        }
        Manager::Pipenv => {
            let why = if has("Pipfile.lock") {
                "Pipfile.lock"
            } else {
                "Pipfile"
            };
            plan.env.insert("PIPENV_VENV_IN_PROJECT".into(), "1".into());
            plan.env.insert("PIPENV_CACHE_DIR".into(), cache("pipenv"));
            plan.build.push(Step::new(
                ".venv/bin/pip install pipenv",
                "Pipfile: pipenv installs it",
            ));
            plan.build.push(Step::new(
                ".venv/bin/pipenv install --deploy",
                format!("{why}: pipenv installs into the project's .venv"),
            ));
            plan.package_manager = Some(format!("pipenv ({why})"));
        }
        Manager::None => plan.package_manager = Some("pip (no dependencies)".into()),
    }
    let deps = Deps::read(dir, &manager);
    python_frameworks::apply(&mut plan, dir, &deps);
    plan
}

/// Which tool installs the dependencies.
enum Manager {
    Uv,
    /// Why Poetry: its lockfile or its section in `pyproject.toml`.
    Poetry(&'static str),
    Pip,
    PipProject,
    Pipenv,
    None,
}

impl Manager {
    fn manifest(&self) -> &'static str {
        match self {
            Manager::Uv => "uv.lock",
            Manager::Poetry(why) => why,
            Manager::Pip => "requirements.txt",
            Manager::PipProject => "pyproject.toml",
            Manager::Pipenv => "Pipfile",
            Manager::None => "nothing",
        }
    }
}

/// Has `name` (uv, Poetry; see [`tool`]) install the dependencies by `install` (its arguments),
/// with its download cache under dployrd's and its environment the app's `.venv` (`into_venv`:
/// the variable that says so, and its value).
fn tool_installs(plan: &mut Plan, host: &Host, name: &str, into_venv: (&str, &str), install: Step) {
    let cache = host.cache_dir.join(name).display().to_string();
    plan.env
        .insert(format!("{}_CACHE_DIR", name.to_uppercase()), cache);
    plan.env.insert(into_venv.0.into(), into_venv.1.into());
    let tool = tool(plan, host, name);
    plan.build.push(Step {
        run: format!("{tool} {}", install.run),
        ..install
    });
}

/// Adds the step that installs `name` (uv, Poetry) once per instance into its own virtualenv in
/// the tools cache, apart from the app's dependencies, and returns the command that runs it.
/// The virtualenv is made beside its final place and renamed into it, so a concurrent deploy
/// either finds a complete one or makes its own (and drops it when it loses the race); it is run
/// as `python -m` because a moved virtualenv's scripts name the old path.
fn tool(plan: &mut Plan, host: &Host, name: &str) -> String {
    let dir = quote(
        &host
            .cache_dir
            .join("python-tools")
            .join(&host.python)
            .join(name)
            .display()
            .to_string(),
    );
    let python = &host.python;
    plan.build.push(Step::new(
        format!(
            "test -x {dir}/bin/python || {{ {python} -m venv {dir}.$$ && {dir}.$$/bin/pip install \
             {name} && {{ mv -T {dir}.$$ {dir} 2>/dev/null || rm -rf {dir}.$$; }}; }}"
        ),
        format!("{name}, installed once per instance in dployrd's tools cache"),
    ));
    format!("{dir}/bin/python -m {name}")
}

impl Deps {
    fn read(dir: &Path, manager: &Manager) -> Deps {
        let mut deps = Deps {
            source: manager.manifest(),
            names: BTreeSet::new(),
        };
        match manager {
            Manager::Pip => deps.requirements(&dir.join("requirements.txt"), 0),
            Manager::Pipenv => {
                deps.source = "Pipfile";
                let pipfile = read_toml(&dir.join("Pipfile"));
                deps.table(at(&pipfile, &["packages"]));
            }
            Manager::Uv | Manager::Poetry(_) | Manager::PipProject => {
                deps.source = "pyproject.toml";
                let project = read_toml(&dir.join("pyproject.toml"));
                let listed = at(&project, &["project", "dependencies"]).and_then(|d| d.as_array());
                for spec in listed.into_iter().flatten() {
                    if let Some(spec) = spec.as_str() {
                        deps.requirement(spec);
                    }
                }
                deps.table(at(&project, &["tool", "poetry", "dependencies"]));
            }
            Manager::None => {}
        }
        deps
    }

    /// `requirements.txt`, following `-r other.txt` a few levels deep.
    fn requirements(&mut self, file: &Path, depth: u8) {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines() {
            let line = line.split(" #").next().unwrap_or_default().trim();
            let include = line
                .strip_prefix("-r")
                .or_else(|| line.strip_prefix("--requirement"));
            match include {
                Some(other) if depth < 3 => {
                    let other = other.trim_start_matches([' ', '=']).trim();
                    if let Some(parent) = file.parent() {
                        self.requirements(&parent.join(other), depth + 1);
                    }
                }
                _ if line.starts_with(['-', '#']) => {}
                _ => self.requirement(line),
            }
        }
    }

    /// One PEP 508 requirement: `Django>=5.0`, `uvicorn[standard]==0.30`.
    fn requirement(&mut self, spec: &str) {
        let spec = spec.trim();
        let end = spec
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .unwrap_or(spec.len());
        let extras = spec[end..]
            .trim_start()
            .strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .map(|(extras, _)| extras.split(',').map(str::trim).collect::<Vec<_>>())
            .unwrap_or_default();
        self.add(&spec[..end], &extras);
    }

    /// A TOML table of name → version or `{version, extras}` (Poetry, Pipfile).
    fn table(&mut self, table: Option<&toml::Value>) {
        for (name, value) in table.and_then(toml::Value::as_table).into_iter().flatten() {
            if name == "python" {
                continue;
            }
            let extras: Vec<&str> = value
                .get("extras")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(toml::Value::as_str)
                .collect();
            self.add(name, &extras);
        }
    }

    fn add(&mut self, name: &str, extras: &[&str]) {
        if name.is_empty() {
            return;
        }
        let name = normalize(name);
        for extra in extras.iter().filter(|e| !e.is_empty()) {
            self.names.insert(format!("{name}[{}]", normalize(extra)));
        }
        self.names.insert(name);
    }
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// A TOML file's top table, or an empty table when it is absent or not TOML.
fn read_toml(path: &Path) -> toml::Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.parse::<toml::Table>().ok())
        .map(toml::Value::Table)
        .unwrap_or_else(|| toml::Value::Table(toml::Table::new()))
}

/// The value at `path` in nested tables, if every key is there.
fn at<'a>(value: &'a toml::Value, path: &[&str]) -> Option<&'a toml::Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}
