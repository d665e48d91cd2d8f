//! The ingress's direct path (plain HTTP/1.1 without hyper) seen from a raw client socket, so
//! what goes over the wire is what is asserted: pipelined requests answered in order with the
//! proxy's headers, chunked, close-delimited and `HEAD` answers passed through (1xx dropped),
//! the release's socket reused only after a whole body (and a `POST` never sent on one the
//! release has closed), `Connection: close` honoured, and a request with a body on a connection
//! that began on the direct path served by hyper.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::support::{DEADLINE, TestIngress};

/// One answer as a client reads it off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        found.next().map(|(_, v)| v.as_str())
    }
}

/// A raw client connection and the bytes read from it not yet taken as an answer.
struct Raw {
    socket: TcpStream,
    unread: Vec<u8>,
}

impl Raw {
    async fn connect(ingress: &TestIngress) -> Self {
        let socket = TcpStream::connect(ingress.addr).await.unwrap();
        Self {
            socket,
            unread: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &str) {
        self.socket.write_all(bytes.as_bytes()).await.unwrap();
    }

    /// More bytes, or false at the end of the connection.
    async fn fill(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        let n = timeout(DEADLINE, self.socket.read(&mut buf))
            .await
            .expect("the ingress answers")
            .unwrap();
        self.unread.extend_from_slice(&buf[..n]);
        n > 0
    }

    /// The next answer, its body decoded from whichever framing it came in.
    async fn answer(&mut self, to_head: bool) -> Answer {
        let (status, headers, head_len) = loop {
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut res = httparse::Response::new(&mut slots);
            if let httparse::Status::Complete(len) = res.parse(&self.unread).unwrap() {
                let headers = (res.headers.iter())
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8(h.value.to_vec()).unwrap(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (res.code.unwrap(), headers, len);
            }
            assert!(self.fill().await, "the connection ended inside a head");
        };
        self.unread.drain(..head_len);
        let mut answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        if to_head {
            return answer;
        }
        if answer.header("transfer-encoding") == Some("chunked") {
            loop {
                while !self.unread.windows(2).any(|w| w == b"\r\n") {
                    assert!(
                        self.fill().await,
                        "the connection ended inside a chunk size"
                    );
                }
                let line_end = self.unread.windows(2).position(|w| w == b"\r\n").unwrap();
                let size = std::str::from_utf8(&self.unread[..line_end]).unwrap();
                let size = usize::from_str_radix(size.split(';').next().unwrap(), 16).unwrap();
                if size == 0 {
                    // Trailer lines, then the empty line.
                    self.unread.drain(..line_end);
                    while !self.unread.windows(4).any(|w| w == b"\r\n\r\n") {
                        assert!(self.fill().await, "the connection ended inside trailers");
                    }
                    let end = self
                        .unread
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .unwrap();
                    self.unread.drain(..end + 4);
                    return answer;
                }
                while self.unread.len() < line_end + 2 + size + 2 {
                    assert!(self.fill().await, "the connection ended inside a chunk");
                }
                let chunk = &self.unread[line_end + 2..line_end + 2 + size];
                answer.body.extend_from_slice(chunk);
                self.unread.drain(..line_end + 2 + size + 2);
            }
        }
        match answer.header("content-length") {
            Some(length) => {
                let length: usize = length.parse().unwrap();
                while self.unread.len() < length {
                    assert!(self.fill().await, "the connection ended inside a body");
                }
                answer.body = self.unread.drain(..length).collect();
            }
            None => {
                while self.fill().await {}
                answer.body = std::mem::take(&mut self.unread);
            }
        }
        answer
    }

    /// True if the ingress closed the connection (and sent nothing more).
    async fn closed(&mut self) -> bool {
        !self.fill().await && self.unread.is_empty()
    }
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_with_the_proxy_headers() {
    let (_release, ingress) = TestIngress::with_release("blue", "app.test").await;
    let mut client = Raw::connect(&ingress).await;
    client
        .send(
            "GET /headers HTTP/1.1\r\nHost: App.Test\r\nX-Forwarded-For: 203.0.113.7\r\n\
             X-Forwarded-Proto: https\r\nConnection: keep-alive\r\n\r\n\
             HEAD / HTTP/1.1\r\nHost: app.test\r\n\r\n\
             GET / HTTP/1.1\r\nHost: app.test:80\r\n\r\n",
        )
        .await;
    let headers = client.answer(false).await;
    assert_eq!(headers.status, 200);
    assert!(headers.header("date").is_some(), "{headers:?}");
    assert_eq!(
        String::from_utf8(headers.body).unwrap(),
        "host: App.Test\n\
         x-forwarded-for: 203.0.113.7, 127.0.0.1\n\
         x-forwarded-proto: http\n\
         x-forwarded-host: App.Test\n\
         x-private: \n\
         keep-alive: \n"
    );
    let head = client.answer(true).await;
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("4"))
    );
    let name = client.answer(false).await;
    assert_eq!((name.status, name.body), (200, b"blue".to_vec()));

    client
        .send("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
        .await;
    let last = client.answer(false).await;
    assert_eq!(last.header("connection"), Some("close"));
    assert_eq!(last.body, b"blue");
    assert!(
        client.closed().await,
        "Connection: close ends the connection"
    );
}

/// A release that answers each request's path from `script` as raw bytes (each entry's parts
/// written one by one, 20 ms apart), then closes the connection if the entry says so.
async fn scripted(
    script: &'static [(&'static str, &'static [&'static str], bool)],
) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                loop {
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let text = String::from_utf8(head.drain(..end).collect()).unwrap();
                    let path = text.split(' ').nth(1).unwrap().to_owned();
                    let (_, parts, close) = script.iter().find(|(p, ..)| *p == path).unwrap();
                    for part in *parts {
                        socket.write_all(part.as_bytes()).await.unwrap();
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    if *close {
                        return;
                    }
                }
            });
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn chunked_early_hints_and_close_delimited_answers_pass_through() {
    static SCRIPT: &[(&str, &[&str], bool)] = &[
        (
            "/chunked",
            &[
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
                "6;ext=1\r\n world\r\n",
                "0\r\nx-trailer: 1\r\n\r\n",
            ],
            false,
        ),
        (
            "/early",
            &[
                "HTTP/1.1 103 Early Hints\r\nlink: </style.css>\r\n\r\n",
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok",
            ],
            false,
        ),
        (
            "/until-close",
            &["HTTP/1.1 200 OK\r\n\r\nuntil ", "the end"],
            true,
        ),
    ];
    let (upstream, accepted) = scripted(SCRIPT).await;
    let ingress = TestIngress::start().await;
    ingress.route("svc", "raw.test", upstream);
    let mut client = Raw::connect(&ingress).await;

    client
        .send("GET /chunked HTTP/1.1\r\nHost: raw.test\r\n\r\n")
        .await;
    let chunked = client.answer(false).await;
    assert_eq!(chunked.body, b"hello world");
    client
        .send("GET /early HTTP/1.1\r\nHost: raw.test\r\n\r\n")
        .await;
    let early = client.answer(false).await;
    assert_eq!((early.status, &early.body[..]), (200, &b"ok"[..]));
    assert_eq!(
        early.header("connection"),
        None,
        "hop-by-hop headers are dropped"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the release's socket is reused once a whole chunked body has passed"
    );

    client
        .send("GET /until-close HTTP/1.1\r\nHost: raw.test\r\n\r\n")
        .await;
    let until_close = client.answer(false).await;
    assert_eq!(until_close.header("connection"), Some("close"));
    assert_eq!(until_close.body, b"until the end");
    assert!(client.closed().await);

    let mut again = Raw::connect(&ingress).await;
    again
        .send("GET /early HTTP/1.1\r\nHost: raw.test\r\n\r\n")
        .await;
    assert_eq!(again.answer(false).await.body, b"ok");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "a socket whose body ran to its end is not reused"
    );
}

#[tokio::test]
async fn a_request_with_a_body_hands_the_connection_to_hyper_which_serves_the_rest() {
    let (release, ingress) = TestIngress::with_release("blue", "app.test").await;
    let mut client = Raw::connect(&ingress).await;
    client
        .send(
            "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n\
             POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello\
             GET / HTTP/1.1\r\nHost: app.test\r\n\r\n",
        )
        .await;
    assert_eq!(client.answer(false).await.body, b"blue");
    let echoed = client.answer(false).await;
    assert_eq!((echoed.status, echoed.body), (200, b"hello".to_vec()));
    assert_eq!(client.answer(false).await.body, b"blue");
    client
        .send("GET / HTTP/1.1\r\nHost: nobody.test\r\n\r\n")
        .await;
    assert_eq!(client.answer(false).await.status, 404);
    assert_eq!(
        release.connections.load(Ordering::SeqCst),
        2,
        "one upstream connection for the direct path, one for hyper's"
    );
}

#[tokio::test]
async fn a_post_is_never_sent_on_a_pooled_socket_the_release_has_closed() {
    // Each answer says nothing of closing, then the release closes (as an idle timeout does).
    static SCRIPT: &[(&str, &[&str], bool)] = &[(
        "/once",
        &["HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nonce"],
        true,
    )];
    let (upstream, accepted) = scripted(SCRIPT).await;
    let ingress = TestIngress::start().await;
    ingress.route("svc", "once.test", upstream);
    let mut client = Raw::connect(&ingress).await;
    for round in 1..=3 {
        // A POST without a body takes the direct path, but is not safe to send twice.
        client
            .send("POST /once HTTP/1.1\r\nHost: once.test\r\nContent-Length: 0\r\n\r\n")
            .await;
        let answer = client.answer(false).await;
        assert_eq!(
            (answer.status, &answer.body[..]),
            (200, &b"once"[..]),
            "round {round}"
        );
        // Time for the close to arrive, so the pooled socket is known closed when taken.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
