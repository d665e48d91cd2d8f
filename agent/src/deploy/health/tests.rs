use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::*;
use crate::deploy::free_port;

/// Answers every request with `status(n)` for the n-th request (from 0) and reports each
/// request head on the returned channel.
async fn server(
    status: impl Fn(usize) -> u16 + Send + Sync + 'static,
) -> (
    SocketAddr,
    Arc<AtomicUsize>,
    mpsc::UnboundedReceiver<String>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                assert_ne!(n, 0, "the probe closed before finishing its request");
                head.extend_from_slice(&buf[..n]);
            }
            let code = status(seen.fetch_add(1, Ordering::SeqCst));
            let _ = tx.send(String::from_utf8(head).unwrap());
            let answer = format!("HTTP/1.1 {code} Whatever\r\nContent-Length: 0\r\n\r\n");
            let _ = conn.write_all(answer.as_bytes()).await;
        }
    });
    (addr, count, rx)
}

fn fast(probe: Probe, retries: u32) -> HealthCheck {
    HealthCheck {
        probe,
        interval: Duration::from_millis(20),
        timeout: Duration::from_secs(2),
        retries,
        start_grace: Duration::ZERO,
    }
}

fn http(path: &str) -> Probe {
    Probe::Http { path: path.into() }
}

#[tokio::test]
async fn a_healthy_server_passes_with_one_well_formed_request() {
    let (addr, count, mut requests) = server(|_| 200).await;
    let cancel = CancellationToken::new();
    wait_healthy(addr, &fast(http("/healthz?deep=1"), 3), &cancel)
        .await
        .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let head = requests.recv().await.unwrap();
    assert!(
        head.starts_with("GET /healthz?deep=1 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains(&format!("\r\nHost: {addr}\r\n")), "{head}");
}

#[tokio::test]
async fn a_redirect_counts_as_healthy() {
    let (addr, _, _) = server(|_| 302).await;
    let cancel = CancellationToken::new();
    assert_eq!(
        wait_healthy(addr, &fast(http("/"), 1), &cancel).await,
        Ok(())
    );
}

#[tokio::test]
async fn a_server_answering_500_fails_after_exactly_its_retries() {
    let (addr, count, _) = server(|_| 500).await;
    let cancel = CancellationToken::new();
    let err = wait_healthy(addr, &fast(http("/up"), 3), &cancel)
        .await
        .unwrap_err();
    let Unhealthy::Failed { probes, last_error } = &err else {
        panic!("{err}");
    };
    assert_eq!(*probes, 3);
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(
        last_error.contains("\"HTTP/1.1 500 Whatever\""),
        "{last_error}"
    );
    assert!(
        err.to_string()
            .starts_with("not healthy after 3 checks: GET /up on"),
        "{err}"
    );
}

#[tokio::test]
async fn the_root_may_answer_4xx_but_not_5xx_while_other_paths_need_2xx_or_3xx() {
    let (addr, _, _) = server(|_| 404).await;
    let timeout = Duration::from_secs(2);
    assert_eq!(probe(addr, &http("/"), timeout).await, Ok(()));
    let err = probe(addr, &http("/healthz"), timeout).await.unwrap_err();
    assert!(err.contains("404"), "{err}");
    let (addr, _, _) = server(|_| 503).await;
    let err = probe(addr, &http("/"), timeout).await.unwrap_err();
    assert!(err.contains("\"HTTP/1.1 503 Whatever\""), "{err}");
}

#[tokio::test]
async fn nothing_listening_fails_with_connection_refused() {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port().unwrap()));
    let cancel = CancellationToken::new();
    for probe in [http("/"), Probe::Tcp] {
        let err = wait_healthy(addr, &fast(probe, 2), &cancel)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .to_lowercase()
                .contains("connection refused"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_server_that_becomes_healthy_within_the_retries_passes() {
    let (addr, count, _) = server(|n| if n < 3 { 503 } else { 204 }).await;
    let cancel = CancellationToken::new();
    wait_healthy(addr, &fast(http("/"), 10), &cancel)
        .await
        .unwrap();
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "three failures, then the first success"
    );

    // Not listening at all at first, as a service that is still booting.
    let port = free_port().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let listener = TcpListener::bind(addr).await.unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf).await.unwrap();
        conn.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await.unwrap();
    });
    wait_healthy(addr, &fast(http("/"), 100), &cancel)
        .await
        .unwrap();
    late.await.unwrap();
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_per_probe() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let check = HealthCheck {
        timeout: Duration::from_millis(100),
        ..fast(http("/"), 2)
    };
    let err = wait_healthy(addr, &check, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no answer within 100ms"), "{err}");
    drop(listener);
}

#[tokio::test]
async fn cancelling_ends_the_wait_during_the_grace() {
    let check = HealthCheck {
        start_grace: Duration::from_secs(600),
        ..HealthCheck::from(&service::HealthCheck::default())
    };
    let cancel = CancellationToken::new();
    cancel.cancel();
    let addr = SocketAddr::from(([127, 0, 0, 1], 9));
    assert_eq!(
        wait_healthy(addr, &check, &cancel).await,
        Err(Unhealthy::Cancelled)
    );
}

#[tokio::test]
async fn no_probe_is_healthy_after_the_grace_without_connecting() {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port().unwrap()));
    let cancel = CancellationToken::new();
    assert_eq!(
        wait_healthy(addr, &fast(Probe::None, 1), &cancel).await,
        Ok(())
    );
}

#[test]
fn a_services_check_converts_with_its_seconds_as_durations() {
    let hc = service::HealthCheck {
        probe: service::Probe::Http {
            path: "/healthz".into(),
        },
        interval_secs: 3,
        timeout_secs: 4,
        retries: 5,
        start_grace_secs: 6,
    };
    assert_eq!(
        HealthCheck::from(&hc),
        HealthCheck {
            probe: http("/healthz"),
            interval: Duration::from_secs(3),
            timeout: Duration::from_secs(4),
            retries: 5,
            start_grace: Duration::from_secs(6),
        }
    );
    assert_eq!(Probe::from(&service::Probe::Tcp {}), Probe::Tcp);
    assert_eq!(Probe::from(&service::Probe::None {}), Probe::None);
}

#[test]
fn the_default_check_is_the_services_default() {
    assert_eq!(
        HealthCheck::from(&service::HealthCheck::default()),
        HealthCheck {
            probe: http("/"),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            retries: 30,
            start_grace: Duration::ZERO,
        }
    );
}
