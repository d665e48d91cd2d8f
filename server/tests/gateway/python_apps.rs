//! Python apps as users push them, with no build or start command: a Django app with a Heroku
//! `Procfile`, a Flask app and a FastAPI app without one. A real Base, gateway and dployrd, real
//! `python3`, the frameworks installed from PyPI at deploy time, requests through the ingress by
//! `Host`: the framework conventions in `agent::deploy::plan` are only right if these serve.

use std::time::Duration;

use proto::deploy::DeployState;

use crate::deploy::{Deployer, Repo, git_source};
use crate::eventually;
use crate::support::Fetch;

/// `GET path` through the ingress for `host`: the status and the body.
async fn get(d: &Deployer, host: &str, path: &str) -> (u16, String) {
    let r = d
        .client
        .get(format!("http://{}{path}", d.ingress()))
        .header("Host", host)
        .sent()
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Deploys `files` as service `name` and asserts it went live.
async fn deploy_live(d: &Deployer, name: &str, files: &[(&str, &str)]) -> String {
    let repo = Repo::new();
    repo.commit(files, "app");
    let svc = d
        .service(name, git_source(&repo), serde_json::json!({}))
        .await;
    let done = d.settled(&d.deploy(&svc).await).await;
    let log = d.log_lines(&svc).await.join("\n");
    assert_eq!(done.state, DeployState::Live, "{:?}\n{log}", done.reason);
    svc
}

/// Waits until the build log has a line containing `text`.
async fn logged(d: &Deployer, svc: &str, text: &str) {
    eventually(Duration::from_secs(30), text, || async {
        d.log_lines(svc).await.iter().any(|l| l.contains(text))
    })
    .await;
}

const DJANGO_MANAGE: &str = r#"import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"#;

const DJANGO_SETTINGS: &str = r#"from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "only-for-this-test"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles", "pages"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
]
ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"
DATABASES = {}
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
"#;

const DJANGO_URLS: &str = r#"from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("", lambda request: HttpResponse("hello from Django"))]
"#;

const DJANGO_WSGI: &str = r#"import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
application = get_wsgi_application()
"#;

/// Heroku's own Django layout: the Procfile has no `--bind` (gunicorn binds `0.0.0.0:$PORT`
/// when `PORT` is set), whitenoise serves what `collectstatic` gathered into `STATIC_ROOT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_django_app_serves_its_pages_and_collected_static_files() {
    let d = Deployer::start().await;
    let svc = deploy_live(
        &d,
        "dj",
        &[
            (
                "requirements.txt",
                "Django==5.1.15\nwhitenoise==6.8.2\ngunicorn==23.0.0\n",
            ),
            ("Procfile", "web: gunicorn mysite.wsgi\n"),
            ("manage.py", DJANGO_MANAGE),
            ("mysite/__init__.py", ""),
            ("mysite/settings.py", DJANGO_SETTINGS),
            ("mysite/urls.py", DJANGO_URLS),
            ("mysite/wsgi.py", DJANGO_WSGI),
            ("pages/__init__.py", ""),
            ("pages/static/site.css", "body { color: teal; }\n"),
        ],
    )
    .await;
    assert_eq!(
        get(&d, "dj.test", "/").await,
        (200, "hello from Django".into())
    );
    // Only in `pages/static/` in the repository: served from STATIC_ROOT after collectstatic.
    assert_eq!(
        get(&d, "dj.test", "/static/site.css").await,
        (200, "body { color: teal; }\n".into())
    );
    assert_eq!(get(&d, "dj.test", "/static/missing.css").await.0, 404);
    logged(
        &d,
        &svc,
        "build: .venv/bin/python manage.py collectstatic --noinput  # Django with STATIC_ROOT",
    )
    .await;
    logged(&d, &svc, "start: gunicorn mysite.wsgi  # Procfile web:").await;
}

/// Flask alone in requirements.txt: dployrd finds `app` in `app.py` and installs gunicorn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_app_without_a_procfile_or_gunicorn_goes_live() {
    let d = Deployer::start().await;
    let app = "from flask import Flask\n\napp = Flask(__name__)\n\n\n\
               @app.route(\"/\")\ndef index():\n    return \"hello from Flask\"\n";
    let svc = deploy_live(
        &d,
        "flask",
        &[("requirements.txt", "flask==3.1.0\n"), ("app.py", app)],
    )
    .await;
    assert_eq!(
        get(&d, "flask.test", "/").await,
        (200, "hello from Flask".into())
    );
    logged(&d, &svc, "framework: Flask (app in app.py)").await;
    logged(
        &d,
        &svc,
        "build: .venv/bin/pip install gunicorn  # gunicorn serves Flask; it is not in requirements.txt",
    )
    .await;
}

/// FastAPI and uvicorn in requirements.txt, the app in `main.py`: uvicorn on the release's port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fastapi_app_without_a_start_command_answers_json() {
    let d = Deployer::start().await;
    let app = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n\
               @app.get(\"/\")\ndef index():\n    return {\"hello\": \"FastAPI\"}\n";
    let svc = deploy_live(
        &d,
        "api",
        &[
            ("requirements.txt", "fastapi==0.115.6\nuvicorn==0.34.0\n"),
            ("main.py", app),
        ],
    )
    .await;
    let (status, body) = get(&d, "api.test", "/").await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json, serde_json::json!({"hello": "FastAPI"}));
    logged(
        &d,
        &svc,
        "start: uvicorn main:app --host 0.0.0.0 --port $PORT  # FastAPI",
    )
    .await;
}
