//! The install script, run by `sh` into a temp root against a real Base: it installs dployrd,
//! enrolls, and the instance turns online once the installed binary runs; a second run changes
//! nothing.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::Fetch;
use crate::{add_instance, base_with_owner, eventually, status_of};

/// An ACME External Account Binding key (base64url), as ZeroSSL hands one out.
const EAB_KEY: &str = "c2VjcmV0LWtleS1vZi10aGUtY2E";

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
            .args(["--ingress-domain", "apps.example.net"])
            .args(["--acme-eab-kid", "kid-1", "--acme-eab-hmac-key", EAB_KEY])
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
    // The External Account Binding went to a root-only environment file, not a command line.
    let env_file = data.join("dployrd.env");
    assert_eq!(
        std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        format!("DPLOYRD_ACME_EAB_KID=kid-1\nDPLOYRD_ACME_EAB_HMAC_KEY={EAB_KEY}\n")
    );
    let start = out
        .lines()
        .find(|l| l.starts_with("start the agent with:"))
        .unwrap_or_else(|| panic!("no start command: {out}"));
    assert!(
        start.contains(". ") && start.contains("dployrd.env") && !start.contains(EAB_KEY),
        "{start}"
    );
    assert!(
        start.contains("--ingress-domain apps.example.net"),
        "{start}"
    );
    assert!(!out.contains(EAB_KEY), "the key is never printed: {out}");
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

/// `sh -s -- args…` with `script` on stdin, as `curl … | sh -s -- …` runs it.
fn run_script(script: &str, args: &[&str]) -> std::process::Output {
    let mut child = Command::new("sh")
        .arg("-s")
        .arg("--")
        .args(args)
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
}

/// What `sha256sum` says of `path`.
fn sha256sum(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m4_install_command_carries_the_dployrd_sha256() {
    let (app, cluster) = base_with_owner().await;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_dployr-server")).with_file_name("dployrd");
    let want = sha256sum(&bin);
    let made = app.create_instance(&cluster, "web-1").await;
    assert!(
        made.install_command.ends_with(&format!(" --sha256 {want}")),
        "{}",
        made.install_command
    );
    let served = app.get("/download/dployrd.sha256").fetch_text().await;
    assert_eq!(served, format!("{want}  dployrd\n"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m4_install_script_refuses_a_tampered_binary() {
    let bins = tempfile::tempdir().unwrap();
    let served = bins.path().join("dployrd");
    let real = std::path::Path::new(env!("CARGO_BIN_EXE_dployr-server")).with_file_name("dployrd");
    std::fs::copy(&real, &served).unwrap();
    let app = crate::support::TestApp::with(crate::support::Options {
        agent_bin: Some(served.clone()),
        ..Default::default()
    })
    .await;
    let cluster = app.ana_cluster().await;
    let made = app.create_instance(&cluster, "web-1").await;
    let invite = crate::Invite::from_install_command(made.instance.id, &made.install_command);
    let sha = made
        .install_command
        .split_whitespace()
        .skip_while(|w| *w != "--sha256")
        .nth(1)
        .expect("the command carries --sha256")
        .to_string();
    // Someone on the network path answers /download/dployrd with their own program.
    let marker = bins.path().join("ran");
    std::fs::write(&served, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    let script = app.get("/install.sh").fetch_text().await;
    let root = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "--url",
        &invite.url,
        "--token",
        &invite.token,
        "--pin",
        &format!("sha256:{}", invite.pin),
        "--sha256",
        &sha,
        "--root",
        root.path().to_str().unwrap(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_script(&script, &args)
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "installed a tampered binary: {err}");
    assert!(err.contains("does not match --sha256"), "{err}");
    let dir = root.path().join("usr/local/bin");
    assert!(!dir.join("dployrd").exists(), "nothing installed");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no download left behind"
    );
    assert!(!marker.exists(), "the tampered binary never ran");
    app.stop().await;
}
