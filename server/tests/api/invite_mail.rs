//! Invitation emails through a real SMTP conversation: a small relay on 127.0.0.1 that accepts
//! whatever it is given and hands each message to the test. With the relay up the link arrives
//! and works; with the relay down the invitation is still made and the link shown.

use proto::api::CreatedInvite;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::{Fetch, Options, TestApp};

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

/// A Base sending mail through the relay at `port`, where Ana invites Bo as a member; the app,
/// Ana's cluster, the link's token and the invitation.
async fn bo_invited_with_relay_at(port: u16) -> (TestApp, String, String, CreatedInvite) {
    let app = TestApp::with(Options {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Options::default()
    })
    .await;
    let cluster = app.ana_cluster().await;
    let (token, created) = app.invite(&cluster, "bo@example.com", "member").await;
    (app, cluster, token, created)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_configured_the_link_is_emailed_and_works() {
    let (port, mut inbox) = smtp_relay().await;
    let (app, _, token, created) = bo_invited_with_relay_at(port).await;
    assert!(created.emailed, "{created:?}");
    let url = &created.invite_url;

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
    assert!(
        text.contains(url.as_str()),
        "the link is in the email: {text}"
    );

    let (_, r) = app.accept_signup(&token, "bo@example.com", "Bo").await;
    assert_eq!(r.status(), 201, "the emailed link signs Bo up");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_relay_down_the_invitation_is_still_made_and_the_link_shown() {
    // A port nothing listens on.
    let port = testkit::free_port();
    let (app, cluster, _, created) = bo_invited_with_relay_at(port).await;
    assert!(!created.emailed, "{created:?}");
    assert!(created.invite_url.contains("/invite/"));
    let list: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/invites"))
        .fetch()
        .await;
    assert_eq!(list["invites"].as_array().unwrap().len(), 1, "{list}");
    app.stop().await;
}
