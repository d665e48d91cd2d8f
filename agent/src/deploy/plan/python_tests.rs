//! Python plans against real folders: the package manager each combination of files picks, the
//! caches it is pointed at, and the Django, Flask and FastAPI conventions.

use super::tests::{host, start};
use super::*;
use crate::deploy::test_files::{dir_with, sh_in};

/// The plan for `files` and the cache folder its host offered.
fn python(files: &[(&str, &str)]) -> (Plan, String) {
    let dir = dir_with(files);
    let host = host(dir.path());
    let cache = host.cache_dir.display().to_string();
    (plan(Runtime::Python, dir.path(), &host), cache)
}

fn why<'a>(p: &'a Plan, run: &str) -> &'a str {
    &p.build.iter().find(|s| s.run == run).expect(run).why
}

const PYPROJECT: &str = "[project]\nname = \"app\"\nversion = \"1\"\ndependencies = [\"idna\"]\n";

#[test]
fn requirements_txt_installs_with_pip_and_its_cache_is_dployrds() {
    let (p, cache) = python(&[("requirements.txt", "idna\n")]);
    assert_eq!(
        p.build,
        [
            "python3 -m venv .venv",
            ".venv/bin/pip install -r requirements.txt"
        ]
    );
    assert_eq!(p.package_manager.as_deref(), Some("pip (requirements.txt)"));
    assert_eq!(p.env["PIP_CACHE_DIR"], format!("{cache}/pip"));
    assert!(p.build.iter().all(|s| !s.why.is_empty()), "{:?}", p.build);
    assert_eq!(p.start, None, "no framework and no Procfile: no default");
    assert_eq!(p.notes, Vec::<String>::new());
}

#[test]
fn uv_lock_syncs_with_uv_from_the_tools_cache_into_the_apps_venv() {
    let (p, cache) = python(&[
        ("pyproject.toml", PYPROJECT),
        ("uv.lock", ""),
        ("requirements.txt", "idna\n"),
    ]);
    let tool = format!("{cache}/python-tools/python3/uv");
    assert_eq!(p.build.len(), 3, "{:?}", p.build);
    assert!(
        p.build[1]
            .run
            .starts_with(&format!("test -x {tool}/bin/python || ")),
        "{}",
        p.build[1].run
    );
    assert!(p.build[1].run.contains("bin/pip install uv"));
    assert_eq!(
        p.build[2],
        format!("{tool}/bin/python -m uv sync --frozen --no-dev").as_str()
    );
    assert_eq!(p.package_manager.as_deref(), Some("uv (uv.lock)"));
    assert_eq!(p.env["UV_CACHE_DIR"], format!("{cache}/uv"));
    assert_eq!(p.env["UV_PROJECT_ENVIRONMENT"], ".venv");
    assert_eq!(
        p.notes,
        ["requirements.txt is not used: uv.lock names the dependencies"]
    );
}

#[test]
fn poetry_installs_the_main_group_into_the_apps_venv() {
    let poetry =
        "[tool.poetry]\nname = \"app\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n";
    for (files, why) in [
        (
            vec![("pyproject.toml", PYPROJECT), ("poetry.lock", "")],
            "poetry.lock",
        ),
        (
            vec![("pyproject.toml", poetry)],
            "[tool.poetry] in pyproject.toml",
        ),
    ] {
        let (p, cache) = python(&files);
        let tool = format!("{cache}/python-tools/python3/poetry");
        assert_eq!(
            p.build[2],
            format!("{tool}/bin/python -m poetry install --only main --no-root --no-interaction")
                .as_str()
        );
        assert!(p.build[1].run.contains("bin/pip install poetry"));
        assert_eq!(p.package_manager, Some(format!("poetry ({why})")));
        assert_eq!(p.env["POETRY_CACHE_DIR"], format!("{cache}/poetry"));
        assert_eq!(p.env["POETRY_VIRTUALENVS_IN_PROJECT"], "true");
    }
}

#[test]
fn other_pyprojects_install_with_pip_and_pipfiles_with_pipenv() {
    let (p, _) = python(&[("pyproject.toml", PYPROJECT)]);
    assert_eq!(
        p.build,
        ["python3 -m venv .venv", ".venv/bin/pip install ."]
    );
    assert_eq!(p.package_manager.as_deref(), Some("pip (pyproject.toml)"));

    let (p, cache) = python(&[
        ("Pipfile", "[packages]\nidna = \"*\"\n"),
        ("Pipfile.lock", "{}"),
    ]);
    assert_eq!(
        p.build,
        [
            "python3 -m venv .venv",
            ".venv/bin/pip install pipenv",
            ".venv/bin/pipenv install --deploy"
        ]
    );
    assert_eq!(p.package_manager.as_deref(), Some("pipenv (Pipfile.lock)"));
    assert_eq!(p.env["PIPENV_VENV_IN_PROJECT"], "1");
    assert_eq!(p.env["PIPENV_CACHE_DIR"], format!("{cache}/pipenv"));
}

/// The tool step run for real with a stand-in `python3` whose `-m venv` makes a folder with an
/// executable `bin/python` and `bin/pip`: the first run installs the tool, the second finds it.
#[test]
fn the_tool_step_installs_once_and_is_reused() {
    let dir = dir_with(&[("pyproject.toml", PYPROJECT), ("uv.lock", "")]);
    let made = sh_in(
        dir.path(),
        "mkdir bin && printf '%s\\n' '#!/bin/sh' 'mkdir -p \"$3/bin\"' \
             'printf \"#!/bin/sh\\necho pip \\$@ >> $PWD/installs\\n\" > \"$3/bin/pip\"' \
             'cp \"$3/bin/pip\" \"$3/bin/python\"' 'chmod +x \"$3/bin/pip\" \"$3/bin/python\"' \
         > bin/python3 && chmod +x bin/python3",
    );
    assert!(made.status.success(), "{made:?}");
    let p = plan(Runtime::Python, dir.path(), &host(dir.path()));
    for _ in 0..2 {
        let out = sh_in(dir.path(), &p.build[1].run);
        assert!(out.status.success(), "{out:?}");
    }
    let installs = std::fs::read_to_string(dir.path().join("installs")).unwrap();
    assert_eq!(installs, "pip install uv\n");
    let tools = dir.path().join(".cache/python-tools/python3");
    let left: Vec<_> = std::fs::read_dir(&tools)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["uv"], "no temporary folder left behind");
}

const MANAGE_PY: &str = "import os, sys\n\ndef main():\n    \
    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\n    \
    from django.core.management import execute_from_command_line\n    \
    execute_from_command_line(sys.argv)\n";

#[test]
fn django_collects_static_files_and_serves_its_wsgi_module_with_gunicorn() {
    let settings =
        "DEBUG = False\nSTATIC_URL = \"static/\"\nSTATIC_ROOT = BASE_DIR / \"staticfiles\"\n";
    let (p, _) = python(&[
        ("manage.py", MANAGE_PY),
        ("mysite/settings.py", settings),
        ("mysite/wsgi.py", ""),
        (
            "requirements.txt",
            "Django==5.1.4  # the framework\nwhitenoise\n",
        ),
    ]);
    assert_eq!(
        p.build[2..],
        [
            ".venv/bin/pip install gunicorn",
            ".venv/bin/python manage.py collectstatic --noinput"
        ]
    );
    assert_eq!(
        why(&p, ".venv/bin/pip install gunicorn"),
        "gunicorn serves Django; it is not in requirements.txt"
    );
    assert_eq!(
        why(&p, ".venv/bin/python manage.py collectstatic --noinput"),
        "Django with STATIC_ROOT"
    );
    assert_eq!(start(&p), Some("gunicorn mysite.wsgi --bind 0.0.0.0:$PORT"));
    assert!(p.start.unwrap().why.contains("mysite.wsgi"));
    assert_eq!(
        p.notes,
        ["framework: Django (settings mysite.settings, WSGI mysite.wsgi.application)"]
    );

    // gunicorn listed, no STATIC_ROOT, and a Procfile: nothing extra, the Procfile starts it.
    let (p, _) = python(&[
        ("manage.py", MANAGE_PY),
        ("mysite/settings.py", "STATIC_URL = 'static/'\n"),
        ("mysite/wsgi.py", ""),
        ("requirements.txt", "django\ngunicorn==23.0.0\n"),
        ("Procfile", "web: gunicorn mysite.wsgi\n"),
    ]);
    assert_eq!(p.build.len(), 2, "{:?}", p.build);
    assert_eq!(start(&p), Some("gunicorn mysite.wsgi"));
    assert_eq!(p.start.unwrap().why, "Procfile web:");
}

#[test]
fn django_split_settings_and_a_named_wsgi_application() {
    let manage = MANAGE_PY.replace("mysite.settings", "config.settings.production");
    let (p, _) = python(&[
        ("manage.py", &manage),
        ("config/settings/__init__.py", ""),
        (
            "config/settings/base.py",
            "STATIC_ROOT = '/srv/static'\nWSGI_APPLICATION = 'config.wsgi.app'\n",
        ),
        ("config/settings/production.py", "from .base import *\n"),
        ("config/wsgi.py", ""),
        ("requirements/base.txt", "Django>=5,<6\n"),
        ("requirements.txt", "-r requirements/base.txt\ngunicorn\n"),
    ]);
    assert_eq!(
        p.build.last().unwrap(),
        &".venv/bin/python manage.py collectstatic --noinput"
    );
    assert_eq!(
        start(&p),
        Some("gunicorn config.wsgi:app --bind 0.0.0.0:$PORT")
    );

    // manage.py without Django among the dependencies is not a Django app.
    let (p, _) = python(&[("manage.py", MANAGE_PY), ("requirements.txt", "requests\n")]);
    assert_eq!(p.start, None);
    assert_eq!(p.build.len(), 2);
}

#[test]
fn flask_apps_are_found_and_served_by_gunicorn() {
    let (p, _) = python(&[
        ("requirements.txt", "Flask==3.1.0\n"),
        (
            "app.py",
            "from flask import Flask\n\napp = Flask(__name__)\n",
        ),
    ]);
    assert_eq!(p.build[2], ".venv/bin/pip install gunicorn");
    assert_eq!(start(&p), Some("gunicorn app:app --bind 0.0.0.0:$PORT"));
    assert_eq!(p.notes, ["framework: Flask (app in app.py)"]);

    let (p, _) = python(&[
        ("requirements.txt", "flask\ngunicorn\n"),
        (
            "shop/__init__.py",
            "import flask\n\ndef create_app():\n    return flask.Flask('x')\n",
        ),
        ("shop/models.py", ""),
    ]);
    assert_eq!(p.build.len(), 2, "gunicorn is listed: {:?}", p.build);
    assert_eq!(
        start(&p),
        Some("gunicorn 'shop:create_app()' --bind 0.0.0.0:$PORT")
    );
    assert_eq!(
        p.notes,
        ["framework: Flask (create_app() in shop/__init__.py)"]
    );

    let (p, _) = python(&[
        ("requirements.txt", "flask\n"),
        ("server.py", "app = Flask(__name__)\n"),
    ]);
    assert_eq!(p.start, None, "server.py is not a conventional file");
    assert!(p.notes[0].contains("no app object"), "{:?}", p.notes);
}

#[test]
fn fastapi_apps_are_served_by_uvicorn() {
    let (p, _) = python(&[
        ("requirements.txt", "fastapi\n"),
        (
            "main.py",
            "from fastapi import FastAPI\napp: FastAPI = FastAPI()\n",
        ),
    ]);
    assert_eq!(p.build[2], ".venv/bin/pip install uvicorn");
    assert_eq!(
        why(&p, ".venv/bin/pip install uvicorn"),
        "uvicorn serves FastAPI; it is not in requirements.txt"
    );
    assert_eq!(
        start(&p),
        Some("uvicorn main:app --host 0.0.0.0 --port $PORT")
    );
    assert_eq!(p.port_env, [("UVICORN_PORT".into(), "$PORT".into())]);
    assert_eq!(p.notes, ["framework: FastAPI (app in main.py)"]);

    // From pyproject.toml (Poetry's table with extras), in a package folder.
    let pyproject = "[tool.poetry.dependencies]\npython = \"^3.11\"\n\
        fastapi = { version = \"*\", extras = [\"standard\"] }\n";
    let (p, _) = python(&[
        ("pyproject.toml", pyproject),
        ("api/__init__.py", ""),
        ("api/main.py", "import fastapi\napi = fastapi.FastAPI()\n"),
    ]);
    assert!(
        !p.build.iter().any(|s| s.run.contains("install uvicorn")),
        "fastapi[standard] brings uvicorn: {:?}",
        p.build
    );
    assert_eq!(
        start(&p),
        Some("uvicorn api.main:api --host 0.0.0.0 --port $PORT")
    );

    // A Procfile that starts something else installs no server.
    let (p, _) = python(&[
        ("requirements.txt", "fastapi\nhypercorn\n"),
        ("main.py", "app = FastAPI()\n"),
        ("Procfile", "web: hypercorn main:app --bind 0.0.0.0:$PORT\n"),
    ]);
    assert_eq!(p.build.len(), 2, "{:?}", p.build);
}
