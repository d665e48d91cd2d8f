//! A monorepo, one app per folder, deployed as one service per folder through each service's
//! root directory (or the repository's top-level `dployr.toml`): a real Base, gateway and
//! dployrd, a real git repository, real `python3`, requests through the ingress by `Host`.

use proto::deploy::DeployState;
use proto::wire::{FileOp, FileReply};

use crate::deploy::{Deployer, Repo, git_source};

const PY_APP: &str = "import http.server, os\n\
    class H(http.server.BaseHTTPRequestHandler):\n\
    \x20   def do_GET(self):\n\
    \x20       self.send_response(200); self.end_headers(); self.wfile.write(os.getcwd().encode())\n\
    http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";

/// The names the file explorer lists at the top of a service's files.
async fn explorer_top(d: &Deployer, service: &str) -> Vec<String> {
    let reply =
        d.gw.base
            .file_op(
                &d.gw.owner,
                service,
                FileOp::List {
                    path: String::new(),
                },
            )
            .await
            .unwrap();
    let FileReply::Listing { entries, .. } = reply else {
        panic!("{reply:?}")
    };
    let mut names: Vec<String> = entries.into_iter().map(|e| e.name).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_folders_of_one_repository_deploy_as_two_services() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(
        &[
            // Detection at the top would pick node and fail: the apps are in their folders.
            ("package.json", "{\"name\": \"tooling\"}"),
            ("python/requirements.txt", ""),
            ("python/Procfile", "web: python app.py\n"),
            ("python/app.py", PY_APP),
            ("web/index.html", "<h1>from web/</h1>"),
            ("web/dployr.toml", "runtime = \"static\"\n"),
        ],
        "monorepo",
    );
    let api = d
        .service(
            "api",
            git_source(&repo),
            serde_json::json!({"root_dir": "./python/"}),
        )
        .await;
    let www = d
        .service(
            "www",
            git_source(&repo),
            serde_json::json!({"root_dir": "web"}),
        )
        .await;
    let (a, b) = (d.deploy(&api).await, d.deploy(&www).await);
    let (a, b) = (d.settled(&a).await, d.settled(&b).await);
    assert_eq!(a.state, DeployState::Live, "{:?}", a.reason);
    assert_eq!(b.state, DeployState::Live, "{:?}", b.reason);
    let (status, cwd) = d.get("api.test").await.unwrap();
    assert_eq!(status, 200);
    assert!(
        cwd.ends_with("/python"),
        "the app runs in its folder: {cwd}"
    );
    assert_eq!(
        d.get("www.test").await.unwrap(),
        (200, "<h1>from web/</h1>".into())
    );
    // The file explorer starts at the root directory too.
    assert_eq!(
        explorer_top(&d, &api).await,
        [".venv", "Procfile", "app.py", "requirements.txt"]
    );
    assert_eq!(explorer_top(&d, &www).await, ["dployr.toml", "index.html"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_top_level_dployr_toml_names_the_root_and_a_missing_root_fails_with_the_reason() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(
        &[
            ("dployr.toml", "root_dir = \"services/api\"\n"),
            ("services/api/requirements.txt", ""),
            ("services/api/Procfile", "web: python app.py\n"),
            ("services/api/app.py", PY_APP),
        ],
        "configured",
    );
    let api = d
        .service("api", git_source(&repo), serde_json::json!({}))
        .await;
    let live = d.settled(&d.deploy(&api).await).await;
    assert_eq!(live.state, DeployState::Live, "{:?}", live.reason);
    let (_, cwd) = d.get("api.test").await.unwrap();
    assert!(cwd.ends_with("/services/api"), "{cwd}");

    let lost = d
        .service(
            "lost",
            git_source(&repo),
            serde_json::json!({"root_dir": "apps/gone"}),
        )
        .await;
    let failed = d.settled(&d.deploy(&lost).await).await;
    assert_eq!(failed.state, DeployState::Failed);
    let reason = failed.reason.unwrap_or_default();
    assert!(
        reason.contains("\"apps/gone\" is not in the repository"),
        "{reason}"
    );
}
