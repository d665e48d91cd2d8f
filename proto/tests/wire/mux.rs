//! The multiplexer between two real ends: control both ways, streams in both directions,
//! credit isolation between streams, and how streams and connections end.

use std::time::Duration;

use proto::wire::mux::{MuxError, MuxStream, StreamError};
use proto::wire::{AgentMsg, BaseMsg, Command, INITIAL_WINDOW, StreamOpen};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::support::{closed, connected, within};

/// Reads `stream` to its end.
async fn read_all(stream: &mut MuxStream) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = within(stream.recv()).await.expect("stream ends cleanly") {
        all.extend_from_slice(&chunk);
    }
    all
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn control_messages_flow_both_ways_in_order() {
    let (mut base, mut agent) = connected();
    for seq in 0..3 {
        agent
            .mux
            .send_control(&AgentMsg::Heartbeat { seq })
            .unwrap();
    }
    for seq in 0..3 {
        let msg: AgentMsg = within(base.control.recv()).await.unwrap().unwrap();
        assert_eq!(msg, AgentMsg::Heartbeat { seq });
    }
    let command = BaseMsg::Command {
        id: 1,
        command: Command::Ping,
    };
    base.mux.send_control(&command).unwrap();
    let got: BaseMsg = within(agent.control.recv()).await.unwrap().unwrap();
    assert_eq!(got, command);
}

#[tokio::test]
async fn stalled_stream_does_not_block_others() {
    let (base, mut agent) = connected();
    let total = 2 * INITIAL_WINDOW as usize;
    let mut a = base.mux.open(&StreamOpen::Echo).unwrap();
    let (sent_tx, mut sent) = watch::channel(0usize);
    let writer = tokio::spawn(async move {
        let chunk = pattern(64 * 1024);
        for _ in 0..total / chunk.len() {
            a.send(&chunk).await.unwrap();
            sent_tx.send_modify(|n| *n += chunk.len());
        }
        a.close().unwrap();
    });
    // The agent's application takes stream A and never reads it, so A's writer can only get
    // as far as its initial window.
    let mut stalled = within(agent.incoming.accept()).await.unwrap();
    within(sent.wait_for(|n| *n >= INITIAL_WINDOW as usize))
        .await
        .unwrap();

    let started = Instant::now();
    let mut b = base.mux.open(&StreamOpen::Echo).unwrap();
    b.send(b"still there?").await.unwrap();
    let mut b_peer = within(agent.incoming.accept()).await.unwrap();
    let got = within(b_peer.recv()).await.unwrap().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(got, b"still there?");
    assert!(
        elapsed < Duration::from_millis(100),
        "B took {elapsed:?} behind a stalled A"
    );
    assert_eq!(
        *sent.borrow(),
        INITIAL_WINDOW as usize,
        "A is waiting for credit"
    );
    assert!(!writer.is_finished());

    // Reading A grants credit again, and all of it arrives.
    assert_eq!(read_all(&mut stalled).await, pattern(64 * 1024).repeat(8));
    within(writer).await.unwrap();
}

#[tokio::test]
async fn large_message_arrives_intact_and_in_order() {
    let (base, mut agent) = connected();
    let message = pattern(3 << 20);
    let mut stream = base.mux.open(&StreamOpen::Echo).unwrap();
    let sent = message.clone();
    let writer = tokio::spawn(async move {
        stream.send(&sent).await.unwrap();
        stream.close().unwrap();
        stream
    });
    let mut peer = within(agent.incoming.accept()).await.unwrap();
    assert_eq!(peer.purpose(), &StreamOpen::Echo);
    let received = read_all(&mut peer).await;
    assert_eq!(received.len(), message.len());
    assert!(received == message, "bytes differ");
    within(writer).await.unwrap();
}

#[tokio::test]
async fn echo_works_in_both_directions_over_split_halves() {
    let (base, mut agent) = connected();
    // The agent echoes every stream Base opens, reading and writing from separate tasks' halves.
    tokio::spawn(async move {
        while let Some(stream) = agent.incoming.accept().await {
            let (mut tx, mut rx) = stream.split();
            tokio::spawn(async move {
                while let Ok(Some(chunk)) = rx.recv().await {
                    tx.send(&chunk).await.unwrap();
                }
                tx.close().unwrap();
            });
        }
    });
    let message = pattern(INITIAL_WINDOW as usize * 3 + 17);
    let stream = base.mux.open(&StreamOpen::Echo).unwrap();
    assert_eq!(stream.id() % 2, 0, "Base opens even ids");
    let (mut tx, mut rx) = stream.split();
    let sent = message.clone();
    let writer = tokio::spawn(async move {
        tx.send(&sent).await.unwrap();
        tx.close().unwrap();
    });
    let mut echoed = Vec::new();
    while let Some(chunk) = within(rx.recv()).await.unwrap() {
        echoed.extend_from_slice(&chunk);
    }
    assert!(echoed == message, "echo differs");
    within(writer).await.unwrap();
}

#[tokio::test]
async fn both_sides_open_streams_with_their_own_parity() {
    let (mut base, mut agent) = connected();
    let from_base = base.mux.open(&StreamOpen::Echo).unwrap();
    let from_agent = agent.mux.open(&StreamOpen::Echo).unwrap();
    assert_eq!((from_base.id(), from_agent.id()), (2, 1));
    let at_agent = within(agent.incoming.accept()).await.unwrap();
    let at_base = within(base.incoming.accept()).await.unwrap();
    assert_eq!((at_agent.id(), at_base.id()), (2, 1));
    assert_eq!(base.mux.open(&StreamOpen::Echo).unwrap().id(), 4);
}

#[tokio::test]
async fn closed_stream_delivers_everything_after_its_sender_is_gone() {
    let (base, mut agent) = connected();
    let mut stream = base.mux.open(&StreamOpen::Echo).unwrap();
    stream.send(b"all of it").await.unwrap();
    stream.close().unwrap();
    // Dropping both halves after close resets the stream behind the Close frame; the peer
    // must still read every byte and a clean end.
    drop(stream);
    let mut peer = within(agent.incoming.accept()).await.unwrap();
    assert_eq!(read_all(&mut peer).await, b"all of it");
}

#[tokio::test]
async fn dropping_a_writer_before_close_resets_the_stream() {
    let (base, mut agent) = connected();
    let mut stream = base.mux.open(&StreamOpen::Echo).unwrap();
    stream.send(b"partial").await.unwrap();
    drop(stream);
    let mut peer = within(agent.incoming.accept()).await.unwrap();
    assert_eq!(within(peer.recv()).await.unwrap().unwrap(), b"partial");
    let err = within(peer.recv()).await.unwrap_err();
    assert!(
        matches!(&err, StreamError::Reset(reason) if reason.contains("dropped before it was closed")),
        "{err}"
    );
}

#[tokio::test]
async fn reset_fails_both_halves_of_the_peer_stream() {
    let (base, mut agent) = connected();
    let stream = base.mux.open(&StreamOpen::Echo).unwrap();
    let peer = within(agent.incoming.accept()).await.unwrap();
    stream.reset("cancelled by user");
    let (mut tx, mut rx) = peer.split();
    let err = within(rx.recv()).await.unwrap_err();
    assert!(
        matches!(&err, StreamError::Reset(r) if r == "cancelled by user"),
        "{err}"
    );
    let err = tx.send(b"late").await.unwrap_err();
    assert!(matches!(err, StreamError::Reset(_)), "{err}");
}

#[tokio::test]
async fn dropping_the_mux_closes_the_connection_for_both_ends() {
    let (base, agent) = connected();
    let mut stream = base.mux.open(&StreamOpen::Echo).unwrap();
    let base_mux = base.mux.clone();
    drop(base);
    stream.send(b"a clone keeps it open").await.unwrap();
    drop(base_mux);
    assert_eq!(closed(&agent.mux).await, MuxError::TransportEnded);
    let err = stream.send(b"x").await.unwrap_err();
    assert!(
        matches!(err, StreamError::Connection(MuxError::Closed)),
        "{err}"
    );
    assert!(matches!(
        agent.mux.open(&StreamOpen::Echo),
        Err(StreamError::Connection(MuxError::TransportEnded))
    ));
}

#[tokio::test]
async fn close_flushes_queued_messages_first() {
    let (base, mut agent) = connected();
    let refusal = BaseMsg::Refused {
        reason: "token expired".into(),
    };
    base.mux.send_control(&refusal).unwrap();
    base.mux.close();
    let got: BaseMsg = within(agent.control.recv()).await.unwrap().unwrap();
    assert_eq!(got, refusal);
    assert_eq!(closed(&agent.mux).await, MuxError::TransportEnded);
    assert!(within(agent.control.recv::<BaseMsg>()).await.is_none());
    assert_eq!(closed(&base.mux).await, MuxError::Closed);
}
