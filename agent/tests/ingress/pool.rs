//! The ingress's upstream connections: kept alive between requests, and never reused once the
//! release has closed them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

#[tokio::test]
async fn keep_alive_requests_reuse_one_upstream_connection() {
    let (release, ingress) = TestIngress::with_release("blue", "app.test").await;
    // One client connection, so one worker; its requests one after another.
    let client = client();
    for _ in 0..20 {
        assert_eq!(
            get(&client, ingress.addr, "app.test", "/").await,
            ok("blue")
        );
    }
    assert_eq!(
        release.connections.load(Ordering::SeqCst),
        1,
        "20 GETs in a row (the direct path) should share one upstream connection"
    );
    for i in 0..20 {
        let text = format!("{i}").repeat(1024);
        let req = Request::post(format!("http://{}/echo", ingress.addr))
            .header(header::HOST, "app.test")
            .body(Full::new(Bytes::from(text.clone())).boxed_unsync())
            .unwrap();
        let res = client.request(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, text.as_bytes());
    }
    // Requests with a body go through hyper (from the first on, for the rest of the client's
    // connection), whose upstream connections are its own.
    assert_eq!(
        release.connections.load(Ordering::SeqCst),
        2,
        "20 POSTs in a row (through hyper) should share one more upstream connection"
    );
}

#[tokio::test]
async fn a_connection_the_release_closed_while_idle_is_not_reused() {
    // A release that answers one request per connection and then closes it, without saying
    // `Connection: close` (as a server's idle timeout does).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    tokio::spawn({
        let accepted = accepted.clone();
        async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                accepted.fetch_add(1, Ordering::SeqCst);
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).await.unwrap();
                    assert!(n > 0, "the ingress closed before sending a request");
                    head.extend_from_slice(&buf[..n]);
                }
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nonce")
                    .await
                    .unwrap();
            }
        }
    });
    let ingress = TestIngress::start().await;
    ingress.route("svc", "once.test", upstream);
    for round in 1..=3 {
        let answer = get(&client(), ingress.addr, "once.test", "/").await;
        assert_eq!(answer, ok("once"), "request {round}");
        // Time for the ingress to see the close, so the next request must not take it.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
