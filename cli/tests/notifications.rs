//! `dployr notifications add|list|test|deliveries|remove` against a real Base: a webhook
//! channel's signing secret is printed once, the test reaches a local receiver (exit 0) or
//! reports the refusal (exit 1), and the delivery is listed.
//!
//! Needs `dployr-server` and `dployrd` built beside `dployr`, like `cli.rs`.

// Shared with `cli.rs`, which uses what this test does not.
#[allow(dead_code, unused_imports)]
mod support;

use std::io::{Read, Write};
use std::net::TcpListener;

use serde_json::Value;
use support::{Base, EMAIL, PASSWORD, dployr};

/// A receiver on loopback answering 200 to every request; its URL.
fn receiver() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut sock in listener.incoming().flatten() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // The headers, then the body Content-Length announces.
            while let Ok(n) = sock.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    url
}

#[test]
fn channels_are_added_tested_listed_and_removed() {
    let base = Base::start();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("dployr").join("config.toml");
    let cli = |args: &[&str]| dployr(&config, &[], args, None);
    let login = [
        "--url",
        &base.url,
        "login",
        "--email",
        EMAIL,
        "--password-stdin",
    ];
    let r = dployr(&config, &[], &login, Some(PASSWORD));
    assert_eq!(r.code, 0, "{r:?}");

    let url = receiver();
    let r = cli(&[
        "notifications",
        "add",
        "ops",
        "--kind",
        "webhook",
        "--endpoint",
        &url,
        "--event",
        "deploy.failed,instance.offline",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let secret_line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("Signing secret"))
        .expect("the secret, printed once");
    let secret = secret_line.rsplit(' ').next().unwrap().to_string();
    assert!(secret.starts_with("nhsec_"), "{secret}");

    // A closed port: the test reports the failure with exit code 1.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let r = cli(&[
        "notifications",
        "add",
        "nowhere",
        "--kind",
        "webhook",
        "--endpoint",
        &closed,
        "--event",
        "deploy.failed",
    ]);
    assert_eq!(r.code, 0, "{r:?}");

    let r = cli(&["notifications", "list", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains(&secret));
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        list[0]["events"],
        serde_json::json!(["deploy.failed", "instance.offline"])
    );

    let r = cli(&["notifications", "test", "ops"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("delivered (HTTP 200)"), "{r:?}");
    let r = cli(&["notifications", "test", "nowhere"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("failed"), "{r:?}");

    let r = cli(&["notifications", "deliveries", "ops"]);
    assert_eq!(r.code, 0, "{r:?}");
    let header = r.stdout.lines().next().unwrap_or_default();
    for column in ["ALERT", "STATE", "LAST ATTEMPT"] {
        assert!(header.contains(column), "{column} in {header:?}");
    }
    assert!(r.stdout.contains("delivered"), "{}", r.stdout);

    let r = cli(&["notifications", "remove", "ops"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli(&["notifications", "remove", "ops"]);
    assert_eq!(r.code, 2, "an unknown name is a usage error: {r:?}");
    let r = cli(&["notifications", "list", "--json"]);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
}
