//! Python: a virtualenv in the app's folder, the dependencies from `requirements.txt`,
//! `pyproject.toml` or `Pipfile` installed into it.

use std::path::Path;

use proto::service::ServiceKind;

use super::{Host, Plan, Step};

pub(super) fn plan(dir: &Path, host: &Host) -> Plan {
    let python = &host.python;
    let mut build = vec![Step::new(
        format!("{python} -m venv .venv"),
        "every Python app gets its own virtualenv",
    )];
    let mut manager = "pip";
    if dir.join("requirements.txt").is_file() {
        build.push(Step::new(
            ".venv/bin/pip install -r requirements.txt",
            "requirements.txt",
        ));
    } else if dir.join("pyproject.toml").is_file() {
        build.push(Step::new(".venv/bin/pip install .", "pyproject.toml"));
    } else if dir.join("Pipfile").is_file() {
        // pipenv reuses the project's `.venv` when told to keep it in the project.
        manager = "pipenv";
        build.push(Step::new(".venv/bin/pip install pipenv", "Pipfile"));
        build.push(Step::new(
            "PIPENV_VENV_IN_PROJECT=1 .venv/bin/pipenv install --deploy",
            "Pipfile",
        ));
    }
    Plan {
        package_manager: Some(manager.into()),
        build,
        toolchain: vec![python.clone()],
        bin_dirs: vec![".venv/bin".into()],
        ..Plan::empty(ServiceKind::Web)
    }
}
