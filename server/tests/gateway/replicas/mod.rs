//! Real `dployr-server` replicas on one PostgreSQL database (issue 20): three of them with
//! agents spread across them, consoles, file listings, log follows and deploys asked of a
//! replica that does not hold the agent ([`three`]), one of them SIGKILLed mid-deploy; and a
//! second `dployr-server` on a SQLite database already in use stops with a clear error.

mod support;
mod three;

use std::process::Stdio;
use std::time::Duration;

use support::Replica;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_a_second_base_on_one_sqlite_database_stops_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let first = Replica::start(dir.path(), None, "first");
    first.healthy(&client).await;
    let mut second = Replica::start_with(dir.path(), None, "second", Stdio::piped());
    let status = tokio::task::spawn_blocking(move || {
        let status = second.child.wait().unwrap();
        let mut err = String::new();
        use std::io::Read;
        second
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    });
    let (status, err) = tokio::time::timeout(Duration::from_secs(30), status)
        .await
        .expect("the second Base stops")
        .unwrap();
    assert!(!status.success());
    assert!(
        err.contains("another dployr-server already uses the SQLite database"),
        "{err}"
    );
    // The first keeps serving.
    first.healthy(&client).await;
}
