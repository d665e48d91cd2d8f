//! The install script, run by `sh` into a temp root against a real Base: it installs dployrd,
//! enrolls, and the instance turns online once the installed binary runs; a second run changes
//! nothing.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::Fetch;
use crate::{add_instance, base_with_owner, eventually, status_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_script_installs_joins_and_is_idempotent() {
    let (app, cluster) = base_with_owner().await;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_dployr-server")).with_file_name("dployrd");
    assert!(
        bin.exists(),
        "build dployrd first (cargo test --workspace builds it): {}",
        bin.display()
    );
    let invite = add_instance(&app, &cluster, "web-1").await;
    let script = app.get("/install.sh").fetch_text().await;
    assert!(script.starts_with("#!/bin/sh"));
    assert!(
        script.contains(&format!("BASE_URL=\"{}\"", app.url)),
        "the script downloads from this Base"
    );

    let root = tempfile::tempdir().unwrap();
    let (root_path, url, token, pin) = (
        root.path().to_path_buf(),
        invite.url.clone(),
        invite.token.clone(),
        invite.pin.clone(),
    );
    let install = move || {
        let mut child = Command::new("sh")
            .args(["-s", "--", "--url", &url, "--token", &token, "--pin"])
            .arg(format!("sha256:{pin}"))
            .arg("--root")
            .arg(&root_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let first = tokio::task::spawn_blocking(install.clone()).await.unwrap();
    let out = String::from_utf8_lossy(&first.stdout).to_string()
        + &String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{out}");
    assert!(out.contains("enrolled as"), "{out}");

    let installed = root.path().join("usr/local/bin/dployrd");
    let data = root.path().join("var/lib/dployrd");
    assert_eq!(
        std::fs::metadata(&installed).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert_eq!(
        std::fs::metadata(data.join("agent-key.der"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let bin_mtime = std::fs::metadata(&installed).unwrap().modified().unwrap();
    let enrollment = std::fs::read(data.join("enrollment.json")).unwrap();

    let second = tokio::task::spawn_blocking(install).await.unwrap();
    let out = String::from_utf8_lossy(&second.stdout).to_string()
        + &String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{out}");
    assert!(
        out.contains("is up to date") && out.contains("already enrolled"),
        "{out}"
    );
    assert_eq!(
        std::fs::metadata(&installed).unwrap().modified().unwrap(),
        bin_mtime,
        "binary untouched"
    );
    assert_eq!(
        std::fs::read(data.join("enrollment.json")).unwrap(),
        enrollment,
        "enrollment untouched"
    );

    let mut agent = Command::new(&installed)
        .arg("--data-dir")
        .arg(&data)
        .arg("run")
        .args(["--ingress-listen", "127.0.0.1:0"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "installed agent online",
        || async {
            status_of(&app, &cluster, &invite.instance_id)
                .await
                .as_deref()
                == Some("online")
        },
    )
    .await;
    agent.kill().ok();
    agent.wait().ok();
}
