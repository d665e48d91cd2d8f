//! The real `dployrd run` binary with `--http-listen` and `--https-listen`: with a certificate
//! already in its data dir's store it answers TLS for that name (and refuses others), and its
//! plain-HTTP listener redirects that host to its HTTPS port. Base is unreachable here, which
//! is fine: the ingress does not depend on it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent::ingress::Certificates;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use tokio::time::Instant;

use crate::support::*;
use crate::tls_client::*;

/// Kills the `dployrd` this test started when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn address_in(file: &std::path::Path) -> std::net::SocketAddr {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Ok(addr) = text.trim().parse()
        {
            return addr;
        }
        assert!(
            Instant::now() < deadline,
            "no address in {}",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn dployrd_run_serves_https_by_sni_and_redirects_http_to_it() {
    let data = tempfile::tempdir().unwrap();
    let enrollment = serde_json::json!({
        "url": "wss://127.0.0.1:9/agent",
        "pin": "0".repeat(64),
        "instance_id": "ins_test",
    });
    std::fs::write(data.path().join("enrollment.json"), enrollment.to_string()).unwrap();
    let (chain, key, trusted) = self_signed(&["app.test"]);
    let certs = Certificates::open(data.path().join("certs")).unwrap();
    certs.install("app.test", &chain, &key, true).unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_dployrd"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["run", "--http-listen", "127.0.0.1:0"])
        .args(["--https-listen", "127.0.0.1:0", "--ingress-domain", "test"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let https = address_in(&data.path().join("https.addr")).await;
    let http = address_in(&data.path().join("ingress.addr")).await;

    // TLS for the name it has a certificate for; nothing is routed, so the proxy says so.
    let client = https_client(https, std::slice::from_ref(&trusted), &[b"h2", b"http/1.1"]);
    let (status, body) = fetch(&client, "https://app.test/", "app.test")
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, "no service for host app.test\n");
    let tls = client_config(&[trusted], &[b"http/1.1"]);
    assert!(connect(&tls, https, "other.test").await.is_err());

    let req = Request::get(format!("http://{http}/cart?id=7"))
        .header(header::HOST, "app.test")
        .body(Empty::new().boxed_unsync())
        .unwrap();
    let res = crate::support::client().request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    let location = format!("https://app.test:{}/cart?id=7", https.port());
    assert_eq!(res.headers()[header::LOCATION], location.as_str());
}
