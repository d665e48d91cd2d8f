//! The ingress against real TCP servers on 127.0.0.1:0: routing by `Host`, header rewriting,
//! error answers, streamed bodies, WebSocket pass-through, graceful shutdown, and a route switch
//! under load with no failed request (`load`, shared with HTTPS). The upstreams and the client are
//! in `support`; keep-alive to the releases in `pool`; the HTTPS tests in `https` (their client
//! in `tls_client`); the real `dployrd` binary with both listeners in `dployrd`.

mod direct;
mod dployrd;
mod https;
mod load;
mod pool;
mod support;
mod tls_client;
mod websocket;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Channel, Empty};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

use support::*;

#[tokio::test]
async fn each_host_reaches_its_own_release() {
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let ingress = TestIngress::start().await;
    ingress.route("svc-a", "a.test", a.addr);
    ingress.route("svc-b", "b.test", b.addr);
    let client = client();
    for (host, name) in [("a.test", "a"), ("b.test", "b"), ("a.test", "a")] {
        assert_eq!(get(&client, ingress.addr, host, "/").await, ok(name));
    }
}

#[tokio::test]
async fn host_matches_whatever_its_case_and_port() {
    let (_a, ingress) = TestIngress::with_release("a", "App.Test").await;
    let client = client();
    for host in ["app.test", "APP.TEST:8080", "aPp.TeSt:80"] {
        assert_eq!(
            get(&client, ingress.addr, host, "/").await,
            ok("a"),
            "{host}"
        );
    }
}

#[tokio::test]
async fn unknown_host_gets_404_naming_it() {
    let (_a, ingress) = TestIngress::with_release("a", "a.test").await;
    let (status, body) = get(&client(), ingress.addr, "nobody.test", "/")
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, "no service for host nobody.test\n");
}

#[tokio::test]
async fn release_that_is_down_gets_502() {
    let down = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let ingress = TestIngress::start().await;
    ingress.route("svc", "down.test", down);
    let (status, body) = get(&client(), ingress.addr, "down.test", "/")
        .await
        .unwrap();
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        body,
        "bad gateway: the service for host down.test is not answering\n"
    );
}

#[tokio::test]
async fn release_sees_forwarded_headers_and_no_hop_by_hop_ones() {
    let (_a, ingress) = TestIngress::with_release("a", "a.test").await;
    let req = Request::get(format!("http://{}/headers", ingress.addr))
        .header(header::HOST, "a.test:8080")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-forwarded-proto", "https")
        .header(header::CONNECTION, "keep-alive, x-private")
        .header("keep-alive", "timeout=5")
        .header("x-private", "for the proxy only")
        .body(Empty::new().boxed_unsync())
        .unwrap();
    let res = client().request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        "host: a.test:8080\n\
         x-forwarded-for: 203.0.113.7, 127.0.0.1\n\
         x-forwarded-proto: http\n\
         x-forwarded-host: a.test:8080\n\
         x-private: \n\
         keep-alive: \n"
    );
}

#[tokio::test]
async fn bodies_stream_both_ways_and_10_mib_arrive_intact() {
    let (_a, ingress) = TestIngress::with_release("a", "a.test").await;
    let (mut sender, body) = Channel::<Bytes, Infallible>::new(4);
    let req = Request::post(format!("http://{}/echo", ingress.addr))
        .header(header::HOST, "a.test")
        .body(body.boxed_unsync())
        .unwrap();
    sender
        .send_data(Bytes::from_static(b"first"))
        .await
        .unwrap();
    let res = timeout(DEADLINE, client().request(req)).await.unwrap();
    let mut body = res.unwrap().into_body();

    // The echo of the first piece comes back while the request is still open: had the ingress
    // buffered either body, this would wait forever.
    let mut first = Vec::new();
    while first.len() < b"first".len() {
        let frame = timeout(DEADLINE, body.frame()).await;
        let frame = frame.expect("first piece echoed before the request ended");
        if let Ok(data) = frame.unwrap().unwrap().into_data() {
            first.extend_from_slice(&data);
        }
    }
    assert_eq!(first, b"first");

    // A period that is not a power of two, so a chunk out of place cannot match.
    let big: Vec<u8> = (0u32..10 << 20).map(|i| (i % 251) as u8).collect();
    let to_send = big.clone();
    let writer = tokio::spawn(async move {
        for chunk in to_send.chunks(64 << 10) {
            sender
                .send_data(Bytes::copy_from_slice(chunk))
                .await
                .unwrap();
        }
    });
    let echoed = timeout(DEADLINE, body.collect()).await.unwrap().unwrap();
    writer.await.unwrap();
    let echoed = echoed.to_bytes();
    assert_eq!(echoed.len(), big.len());
    assert!(echoed[..] == big[..], "10 MiB came back altered");
}

#[tokio::test]
async fn websocket_upgrade_passes_through_both_ways() {
    let echo_addr = websocket::echo_release().await;
    let ingress = TestIngress::start().await;
    ingress.route("chat", "chat.test", echo_addr);

    let round_trip = async {
        let stream = TcpStream::connect(ingress.addr).await.unwrap();
        let (mut ws, res) = tokio_tungstenite::client_async("ws://chat.test/socket", stream)
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
        websocket::echo_both_ways(&mut ws).await;
    };
    timeout(DEADLINE, round_trip).await.unwrap();
}

#[tokio::test]
async fn request_in_flight_during_a_switch_finishes_on_its_release() {
    let mut v1 = Upstream::start("v1").await;
    let v2 = Upstream::start("v2").await;
    let ingress = TestIngress::start().await;
    ingress.route("app", "app.test", v1.addr);
    let client = client();
    let slow = slow_get(&client, &ingress, &mut v1).await;
    ingress.route("app", "app.test", v2.addr);
    assert_eq!(get(&client, ingress.addr, "app.test", "/").await, ok("v2"));
    v1.finish_slow_request();
    assert_eq!(slow.await.unwrap(), ok("v1"));
}

#[tokio::test]
async fn shutdown_stops_accepting_and_lets_requests_in_progress_finish() {
    let mut v1 = Upstream::start("v1").await;
    let mut ingress = TestIngress::start().await;
    ingress.route("app", "app.test", v1.addr);
    let client = client();
    let slow = slow_get(&client, &ingress, &mut v1).await;
    ingress.stop.take().unwrap().send(()).unwrap();

    let deadline = Instant::now() + DEADLINE;
    while TcpStream::connect(ingress.addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the ingress still accepts");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(!ingress.task.is_finished(), "serve returned mid-request");
    v1.finish_slow_request();
    assert_eq!(slow.await.unwrap(), ok("v1"));
    timeout(DEADLINE, ingress.task).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_switch_under_load_fails_no_request_and_old_release_can_stop() {
    let ingress = TestIngress::start().await;
    let client = client();
    let addr = ingress.addr;
    let request = move || {
        let client = client.clone();
        async move { get(&client, addr, "app.test", "/").await }
    };
    let route = |upstream| ingress.route("app", "app.test", upstream);
    load::switch_under_load(route, request).await;
}
