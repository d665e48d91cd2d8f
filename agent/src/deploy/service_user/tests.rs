//! Real users, real processes: these need root (the test machine's), and say so when not.

use super::*;
use crate::deploy::process::{self, CancellationToken, LogLine, ShellCommand};
use std::time::Duration;

/// Runs `script` as `user` in `dir` and returns its stdout and stderr lines and whether it
/// exited 0.
async fn run_as(user: &Identity, dir: &Path, script: &str) -> (Vec<String>, bool) {
    let mut cmd = ShellCommand::new(script, dir);
    cmd.user = Some(user.clone());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<LogLine>(1024);
    let exit = process::run(&cmd, tx, Duration::from_secs(30), &CancellationToken::new())
        .await
        .unwrap();
    let mut lines = Vec::new();
    while let Ok(line) = rx.try_recv() {
        lines.push(line.line);
    }
    (lines, exit.success())
}

/// Deletes a test's user even when the test fails.
pub(crate) struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if User::from_name(&self.0).ok().flatten().is_some() {
            let _ = std::process::Command::new("userdel").arg(&self.0).status();
        }
    }
}

#[tokio::test]
async fn h1_a_service_runs_as_its_own_user() {
    assert!(isolating(), "this test needs root: it creates system users");
    let data = tempfile::tempdir().unwrap();
    prepare_data_dir(data.path());
    let services = data.path().join("services");
    let service_id = format!("h1-{}", rand::random::<u32>());
    let _cleanup = Cleanup(user_name(&service_id));
    let user = prepare(&services, &service_id).await.unwrap().unwrap();
    assert_eq!(user.name, user_name(&service_id));
    assert!(user.name.len() <= 32 && user.name.starts_with(PREFIX));
    assert_ne!(user.uid, 0);
    let passwd = User::from_name(&user.name)
        .unwrap()
        .expect("the user exists");
    assert_eq!(passwd.uid.as_raw(), user.uid);

    let release = services.join(&service_id).join("releases").join("dep1");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(release.join("app.txt"), "mine\n").unwrap();
    give_release(&release, &user).await.unwrap();
    let (lines, ok) = run_as(
        &user,
        &release,
        "id -u; id -G; echo \"$HOME\"; cat app.txt; touch \"$HOME/cache-ok\" && echo written",
    )
    .await;
    assert!(ok, "{lines:?}");
    assert_eq!(
        lines[0],
        user.uid.to_string(),
        "the process's uid: {lines:?}"
    );
    assert_eq!(
        lines[1],
        user.gid.to_string(),
        "only its own group, never root's"
    );
    assert_eq!(lines[2], user.home.display().to_string());
    assert_eq!(lines[3..], ["mine", "written"]);

    // A second prepare finds the same user; removing the service deletes it.
    let again = prepare(&services, &service_id).await.unwrap().unwrap();
    assert_eq!(again, user);
    remove(&service_id).await;
    assert!(
        User::from_name(&user.name).unwrap().is_none(),
        "user deleted"
    );
}
