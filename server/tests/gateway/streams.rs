//! Byte streams over the real tunnel (mutual TLS on loopback, real dployrd code): Base opens
//! streams to an agent next to the control stream, and one stream nobody reads never holds up
//! another, nor the commands.

use std::time::{Duration, Instant};

use control::gateway::registry::OpenError;
use proto::wire::{INITIAL_WINDOW, Outcome, StreamOpen};

use crate::commands::{Gateway, PATIENCE};

/// Sends on `stream` until a send has been blocked for this long, i.e. credit ran out.
const BLOCKED: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echo_stream_carries_bytes_both_ways_and_ends_cleanly() {
    let (gw, invite, _agent) = Gateway::with_agent("web-1").await;

    let stream = gw
        .base
        .registry()
        .open_stream(&invite.instance_id, &StreamOpen::Echo)
        .unwrap();
    // More than a window's worth, so credit has to come back over TLS for this to finish.
    let sent: Vec<u8> = (0..3 * INITIAL_WINDOW as usize)
        .map(|i| (i % 251) as u8)
        .collect();
    let (mut tx, mut rx) = stream.split();
    let writer = {
        let sent = sent.clone();
        tokio::spawn(async move {
            for chunk in sent.chunks(50_000) {
                tx.send(chunk).await.unwrap();
            }
            tx.close().unwrap();
        })
    };
    let mut got = Vec::with_capacity(sent.len());
    tokio::time::timeout(PATIENCE, async {
        while let Some(bytes) = rx.recv().await.unwrap() {
            got.extend_from_slice(&bytes);
        }
    })
    .await
    .expect("the echo finished");
    writer.await.unwrap();
    assert_eq!(got.len(), sent.len());
    assert!(got == sent, "the echo came back byte for byte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_nobody_reads_does_not_hold_up_another_on_the_same_connection() {
    let (gw, invite, _agent) = Gateway::with_agent("web-1").await;
    let registry = gw.base.registry();

    // Base never reads this stream's echo: the agent's echo stalls once Base's window for it is
    // full, then stops reading, and Base's sends stop once the agent's window is full too.
    let mut stalled = registry
        .open_stream(&invite.instance_id, &StreamOpen::Echo)
        .unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut accepted = 0usize;
    loop {
        match tokio::time::timeout(BLOCKED, stalled.send(&chunk)).await {
            Ok(sent) => {
                sent.unwrap();
                accepted += chunk.len();
            }
            Err(_) => break,
        }
        assert!(
            accepted < 64 * INITIAL_WINDOW as usize,
            "sends never blocked: nothing paces this stream"
        );
    }
    assert!(
        accepted >= INITIAL_WINDOW as usize,
        "blocked after {accepted} bytes, before even one window"
    );

    // A second stream on the same connection, while the first is stuck.
    let mut live = registry
        .open_stream(&invite.instance_id, &StreamOpen::Echo)
        .unwrap();
    let start = Instant::now();
    live.send(b"still there?").await.unwrap();
    let echoed = tokio::time::timeout(PATIENCE, live.recv())
        .await
        .expect("the second stream answered")
        .unwrap()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(echoed, b"still there?");
    assert!(
        took < Duration::from_millis(100),
        "the second stream took {took:?} behind the stalled one"
    );
    // And the control stream too.
    assert_eq!(
        gw.ping(&invite.instance_id, PATIENCE).await,
        Ok(Outcome::Ok)
    );
    println!("stalled stream took {accepted} bytes; a second stream echoed in {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_to_an_instance_without_a_connection_are_refused_as_offline() {
    let gw = Gateway::start().await;
    let invite = gw.invite("never-runs").await;
    let got = gw
        .base
        .registry()
        .open_stream(&invite.instance_id, &StreamOpen::Echo);
    assert!(matches!(got, Err(OpenError::Offline)), "{:?}", got.err());
}
