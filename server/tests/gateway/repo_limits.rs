//! `dployr.toml`'s `build_timeout_secs` is what the build is held to (audit finding L9): a
//! real Base, gateway and dployrd, a real repository whose file asks for a 1 s build limit and
//! a build that sleeps for 30.

use proto::deploy::DeployState;

use crate::deploy::{Deployer, Repo, files, git_source, node_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l9_dployr_toml_build_timeout_is_applied() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    let mut app = node_app("v1");
    app.push(("dployr.toml", "build_timeout_secs = 1\n".into()));
    repo.commit(&files(&app), "a one-second build limit");
    let svc = d
        .service(
            "api",
            git_source(&repo),
            serde_json::json!({"build_command": "sleep 30"}),
        )
        .await;
    let started = std::time::Instant::now();
    let done = d.settled(&d.deploy(&svc).await).await;
    assert_eq!(done.state, DeployState::TimedOut, "{:?}", done.reason);
    let why = done.reason.unwrap_or_default();
    assert!(why.contains("did not finish within"), "{why}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "the 30 s build ran to its end"
    );
}
