//! Invitation emails through a real SMTP conversation: a small relay on 127.0.0.1 that accepts
//! whatever it is given and hands each message to the test. With the relay up the link arrives
//! and works; with the relay down the invitation is still made and the link shown.

use reqwest::Client;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::{Options, PASSWORD, TestApp};

/// One delivered message: its recipients and its text (headers and body).
struct Delivered {
    rcpt: Vec<String>,
    data: String,
}

/// A relay speaking just enough ESMTP (EHLO, MAIL, RCPT, DATA, QUIT) to take messages.
async fn smtp_relay() -> (u16, mpsc::UnboundedReceiver<Delivered>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 relay ESMTP\r\n").await.unwrap();
                let mut rcpt = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().to_string());
                        b"250 ok\r\n"
                    } else if upper == "DATA" {
                        w.write_all(b"354 end with .\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        let rcpt = std::mem::take(&mut rcpt);
                        let _ = tx.send(Delivered { rcpt, data });
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 relay\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

async fn invite(app: &TestApp, cluster: &str, email: &str) -> Value {
    let r = app
        .post(&format!("/api/v1/clusters/{cluster}/invites"))
        .json(&json!({ "email": email, "role": "member" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_configured_the_link_is_emailed_and_works() {
    let (port, mut inbox) = smtp_relay().await;
    let app = TestApp::with(Options {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Options::default()
    })
    .await;
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap();
    let created = invite(&app, cluster, "bo@example.com").await;
    assert_eq!(created["emailed"], true, "{created}");
    let url = created["invite_url"].as_str().unwrap();

    let mail = tokio::time::timeout(std::time::Duration::from_secs(5), inbox.recv())
        .await
        .expect("a message within 5 s")
        .unwrap();
    assert_eq!(mail.rcpt, ["<bo@example.com>"]);
    // Undo quoted-printable soft breaks, should the encoder have wrapped the link.
    let text = mail.data.replace("=\n", "");
    assert!(text.contains("To: bo@example.com"), "{text}");
    assert!(
        text.contains("Subject: Ana Lopez invited you to Ana's cluster"),
        "{text}"
    );
    assert!(text.contains(url), "the link is in the email: {text}");

    let token = url.rsplit('/').next().unwrap();
    let r = Client::new()
        .post(format!("{}/api/v1/invites/{token}/accept", app.url))
        .header("Origin", &app.origin)
        .json(&json!({ "email": "bo@example.com", "password": PASSWORD, "name": "Bo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the emailed link signs Bo up");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_relay_down_the_invitation_is_still_made_and_the_link_shown() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = TestApp::with(Options {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Options::default()
    })
    .await;
    let ana: Value = app.signup("ana@example.com").await.json().await.unwrap();
    let cluster = ana["cluster"]["id"].as_str().unwrap();
    let created = invite(&app, cluster, "bo@example.com").await;
    assert_eq!(created["emailed"], false, "{created}");
    assert!(created["invite_url"].as_str().unwrap().contains("/invite/"));
    let list: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/invites"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["invites"].as_array().unwrap().len(), 1, "{list}");
    app.stop().await;
}
