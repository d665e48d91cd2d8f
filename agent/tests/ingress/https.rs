//! The ingress over HTTPS against real TLS handshakes (rustls both sides, rcgen certificates
//! in a real store): HTTP/1.1 and HTTP/2 by ALPN, refused unknown names, TLS-ALPN-01,
//! WebSockets (HTTP/1.1 upgrades and HTTP/2 extended CONNECT), HSTS, the HTTP listener's
//! redirects and ACME HTTP-01 answers, and a route switch under load with no failed request.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::sign::CertifiedKey;
use tokio::io::AsyncReadExt;

use tokio::time::timeout;

use crate::support::*;
use crate::tls_client::*;
use crate::websocket;

/// A GET of `/headers` for `app.test` over one TLS connection offering only `alpn`; returns
/// the negotiated protocol, the status and the body.
async fn get_headers_over(
    ingress: &TlsIngress,
    trusted: &[rustls::pki_types::CertificateDer<'static>],
    alpn: &[u8],
) -> (Vec<u8>, StatusCode, String) {
    let tls = client_config(trusted, &[alpn]);
    let stream = connect(&tls, ingress.https, "app.test").await.unwrap();
    let negotiated = stream.get_ref().1.alpn_protocol().unwrap().to_vec();
    let io = TokioIo::new(stream);
    let req = Request::get("https://app.test/headers")
        .header(header::HOST, "app.test")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = if alpn == b"h2" {
        let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .unwrap();
        tokio::spawn(conn);
        send.send_request(req).await.unwrap()
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        send.send_request(req).await.unwrap()
    };
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        negotiated,
        status,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn https_over_h1_and_h2_reaches_the_release_and_says_https() {
    let release = Upstream::start("a").await;
    let ingress = TlsIngress::start().await;
    let trusted = ingress.certify(&["app.test"]);
    ingress.route("svc-a", "app.test", release.addr);
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let (negotiated, status, body) = timeout(
            DEADLINE,
            get_headers_over(&ingress, std::slice::from_ref(&trusted), alpn),
        )
        .await
        .unwrap();
        assert_eq!(negotiated, alpn);
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("x-forwarded-proto: https\n"), "{body}");
        assert!(body.contains("host: app.test\n"), "{body}");
    }
}

#[tokio::test]
async fn a_name_without_a_certificate_is_refused_and_the_listener_carries_on() {
    let release = Upstream::start("a").await;
    let ingress = TlsIngress::start().await;
    let trusted = ingress.certify(&["app.test"]);
    ingress.route("svc-a", "app.test", release.addr);
    ingress.route("svc-b", "nocert.test", release.addr);
    let tls = client_config(std::slice::from_ref(&trusted), &[b"http/1.1"]);
    for sni in ["nocert.test", "nobody.test", "127.0.0.1"] {
        let refused = connect(&tls, ingress.https, sni).await;
        assert!(refused.is_err(), "a handshake for {sni} succeeded");
    }
    let client = https_client(ingress.https, &[trusted], &[b"http/1.1"]);
    let answer = fetch(&client, "https://app.test/", "app.test").await;
    assert_eq!(answer, ok("a"));
}

#[tokio::test]
async fn acme_tls_alpn_gets_the_challenge_certificate_and_nothing_more() {
    let release = Upstream::start("a").await;
    let ingress = TlsIngress::start().await;
    let _served = ingress.certify(&["app.test"]);
    ingress.route("svc-a", "app.test", release.addr);
    let (chain, key, challenge_der) = self_signed(&["app.test"]);
    let chain = rustls::pki_types::pem::PemObject::pem_slice_iter(chain.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key: rustls::pki_types::PrivateKeyDer =
        rustls::pki_types::pem::PemObject::from_pem_slice(key.as_bytes()).unwrap();
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).unwrap();
    ingress
        .certs
        .set_alpn01("app.test", Arc::new(CertifiedKey::new(chain, signer)));

    // Trusting only the challenge certificate: the handshake succeeds only if it is presented.
    let tls = client_config(&[challenge_der], &[b"acme-tls/1"]);
    let mut stream = connect(&tls, ingress.https, "app.test").await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"acme-tls/1"[..]));
    let mut rest = Vec::new();
    let read = timeout(DEADLINE, stream.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(read.is_ok_and(|n| n == 0), "{rest:?}");

    ingress.certs.clear_alpn01("app.test");
    assert!(connect(&tls, ingress.https, "app.test").await.is_err());
}

#[tokio::test]
async fn websocket_echo_over_https() {
    let echo_addr = websocket::echo_release().await;
    let ingress = TlsIngress::start().await;
    let trusted = ingress.certify(&["chat.test"]);
    ingress.route("chat", "chat.test", echo_addr);

    let round_trip = async {
        let tls = client_config(&[trusted], &[b"http/1.1"]);
        let stream = connect(&tls, ingress.https, "chat.test").await.unwrap();
        let (mut ws, res) = tokio_tungstenite::client_async("wss://chat.test/socket", stream)
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
        websocket::echo_both_ways(&mut ws).await;
    };
    timeout(DEADLINE, round_trip).await.unwrap();
}

/// RFC 8441: an HTTP/2 client opens the WebSocket with an extended CONNECT on its one
/// connection; the release (tungstenite, HTTP/1.1) sees an ordinary handshake, and the
/// subprotocol it picked comes back. A plain CONNECT (a forward proxy's tunnel) is refused.
#[tokio::test]
async fn websocket_echo_over_h2_by_extended_connect() {
    use tokio_tungstenite::tungstenite::handshake::server::{
        Request as WsRequest, Response as WsResponse,
    };
    // tungstenite's callback type, with its large error response, is not ours to choose.
    #[allow(clippy::result_large_err)]
    let pick_chat = |req: &WsRequest, mut res: WsResponse| {
        assert_eq!(req.uri().path(), "/socket");
        assert_eq!(req.headers()["x-forwarded-proto"], "https");
        let offered = req.headers()["sec-websocket-protocol"].clone();
        assert_eq!(offered, "chat, superchat");
        res.headers_mut()
            .insert("sec-websocket-protocol", "chat".parse().unwrap());
        Ok(res)
    };
    let echo_addr = websocket::echo_release_with(pick_chat).await;
    let ingress = TlsIngress::start().await;
    let trusted = ingress.certify(&["chat.test"]);
    ingress.route("chat", "chat.test", echo_addr);

    let round_trip = async {
        let tls = client_config(&[trusted], &[b"h2"]);
        let stream = connect(&tls, ingress.https, "chat.test").await.unwrap();
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let connect = |protocol: Option<&'static str>| {
            let mut req = Request::connect("https://chat.test/socket")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-protocol", "chat, superchat")
                .body(Empty::<Bytes>::new())
                .unwrap();
            if let Some(p) = protocol {
                req.extensions_mut()
                    .insert(hyper::ext::Protocol::from_static(p));
            }
            req
        };
        let refused = send.send_request(connect(None)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);

        let res = send.send_request(connect(Some("websocket"))).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["sec-websocket-protocol"], "chat");
        assert!(!res.headers().contains_key("sec-websocket-accept"));
        let upgraded = hyper::upgrade::on(res).await.unwrap();
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tokio_tungstenite::tungstenite::protocol::Role::Client,
            None,
        )
        .await;
        websocket::echo_both_ways(&mut ws).await;
    };
    timeout(DEADLINE, round_trip).await.unwrap();
}

#[tokio::test]
async fn http_redirects_hosts_with_a_certificate_but_answers_acme_challenges() {
    let (a, plain) = (Upstream::start("a").await, Upstream::start("plain").await);
    let ingress = TlsIngress::start().await;
    ingress.certify(&["app.test"]);
    ingress.certify(&["*.wild.test"]);
    ingress.route("svc-a", "app.test", a.addr);
    ingress.route("svc-w", "x.wild.test", a.addr);
    ingress.route("svc-plain", "plain.test", plain.addr);
    ingress.certs.set_http01("tok-1", "tok-1.thumbprint");
    let client = client();
    let port = ingress.https.port();

    for (host, path, location) in [
        (
            "App.Test:8080",
            "/a/b?c=d",
            format!("https://app.test:{port}/a/b?c=d"),
        ),
        ("x.wild.test", "/", format!("https://x.wild.test:{port}/")),
    ] {
        let req = Request::post(format!("http://{}{path}", ingress.http))
            .header(header::HOST, host)
            .body(Empty::new().boxed_unsync())
            .unwrap();
        let res = client.request(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT, "{host}");
        assert_eq!(res.headers()[header::LOCATION], location.as_str());
    }

    // The challenge is answered for any host, with or without a certificate or a route.
    for host in ["app.test", "plain.test", "unrouted.test"] {
        let challenge = "/.well-known/acme-challenge/tok-1";
        let req = Request::get(format!("http://{}{challenge}", ingress.http))
            .header(header::HOST, host)
            .body(Empty::new().boxed_unsync())
            .unwrap();
        let res = client.request(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{host}");
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"tok-1.thumbprint");
    }
    let unknown = get(
        &client,
        ingress.http,
        "app.test",
        "/.well-known/acme-challenge/nope",
    )
    .await;
    assert_eq!(unknown.unwrap().0, StatusCode::NOT_FOUND);

    // A host without a certificate is proxied over HTTP as before.
    assert_eq!(
        get(&client, ingress.http, "plain.test", "/").await,
        ok("plain")
    );
}

#[tokio::test]
async fn hsts_only_for_services_that_ask_and_only_over_https() {
    let release = Upstream::start("a").await;
    let ingress = TlsIngress::start().await;
    let strict = ingress.certify(&["strict.test"]);
    let lax = ingress.certify(&["lax.test"]);
    // bare.test has no certificate, so plain HTTP serves it (without HSTS).
    let hosts = vec!["strict.test".to_owned(), "bare.test".to_owned()];
    ingress.routes.set("strict", hosts, release.addr).unwrap();
    ingress.route("lax", "lax.test", release.addr);
    ingress.routes.set_hsts("strict", true);

    // HTTP/2 through hyper, HTTP/1.1 through the direct path.
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let https = https_client(ingress.https, &[strict.clone(), lax.clone()], &[alpn]);
        for (host, hsts) in [
            ("strict.test", Some("max-age=31536000")),
            ("lax.test", None),
        ] {
            let req = Request::get(format!("https://{host}/"))
                .body(Empty::new().boxed_unsync())
                .unwrap();
            let res = timeout(DEADLINE, https.request(req))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let got = res.headers().get(header::STRICT_TRANSPORT_SECURITY);
            let alpn = String::from_utf8_lossy(alpn);
            assert_eq!(got.map(|v| v.to_str().unwrap()), hsts, "{host} over {alpn}");
        }
    }
    let req = Request::get(format!("http://{}/", ingress.http))
        .header(header::HOST, "bare.test")
        .body(Empty::new().boxed_unsync())
        .unwrap();
    let res = client().request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        !res.headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_switch_under_load_over_https_fails_no_request() {
    let ingress = TlsIngress::start().await;
    let trusted = ingress.certify(&["app.test"]);
    let client = https_client(ingress.https, &[trusted], &[b"h2", b"http/1.1"]);
    let request = move || {
        let client = client.clone();
        async move { fetch(&client, "https://app.test/", "app.test").await }
    };
    let route = |upstream| ingress.route("app", "app.test", upstream);
    crate::load::switch_under_load(route, request).await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_handshake_is_dropped_after_the_timeout() {
    let ingress = TlsIngress::start().await;
    let mut silent = tokio::net::TcpStream::connect(ingress.https).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 16];
    let read = timeout(
        agent::ingress::HANDSHAKE_TIMEOUT + DEADLINE,
        silent.read(&mut buf),
    )
    .await
    .expect("the ingress closes a silent connection");
    // Closed (EOF or reset), having sent nothing, and not before the timeout.
    assert!(read.is_err() || read.is_ok_and(|n| n == 0));
    let waited = started.elapsed();
    assert!(
        waited >= agent::ingress::HANDSHAKE_TIMEOUT - std::time::Duration::from_millis(100),
        "closed after {waited:?}"
    );
}
