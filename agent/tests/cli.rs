//! The `dployrd` binary as an operator meets it: version, status before enrolling, and clear
//! errors for bad input. (Building this test also builds the binary that Base serves to
//! installers in the gateway tests.)

use std::process::Command;

fn dployrd(args: &[&str], data: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dployrd"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn version_names_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let out = dployrd(&["--version"], dir.path());
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!("dployrd {} (protocol 3)", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn status_before_joining_says_not_enrolled() {
    let dir = tempfile::tempdir().unwrap();
    let out = dployrd(&["status"], dir.path());
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "not enrolled"
    );
}

/// `dployrd join` with `token` and a malformed pin fails on the pin, before dialing.
fn join_refuses_a_malformed_pin(token: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dployrd(
        &[
            "join",
            "--url",
            "wss://127.0.0.1:1",
            "--token",
            token,
            "--pin",
            "sha256:nope",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--pin must be sha256: followed by 64 hex digits"),
        "{err}"
    );
}

#[test]
fn a_malformed_pin_is_refused_before_dialing() {
    join_refuses_a_malformed_pin("t");
}

#[test]
fn a_token_that_starts_with_a_dash_is_a_value_not_a_flag() {
    // Past argument parsing: the next check to refuse it is the pin's.
    join_refuses_a_malformed_pin("-H9o_BWB2y-DtZvQeJKvXomi3");
}

#[test]
fn run_without_enrolling_explains_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dployrd(&["run"], dir.path());
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not enrolled: run `dployrd join"), "{err}");
}

#[test]
fn run_takes_http_and_https_listen_addresses_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    // Both listeners (and the old flag name) parse; it then stops at the enrollment check.
    for http in ["--http-listen", "--ingress-listen"] {
        let args = ["run", http, "127.0.0.1:0", "--https-listen", "127.0.0.1:0"];
        let out = dployrd(&args, dir.path());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("not enrolled"), "{http}: {err}");
    }
    let out = dployrd(&["run", "--https-listen", "443"], dir.path());
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--https-listen"), "{err}");
}
