//! A hand-driven peer breaks the protocol on purpose: each violation must close the whole
//! connection with a reason that names it (and tell the peer why), while merely unknown or
//! late input is refused without taking the connection down.

use proto::wire::mux::{CONTROL_BACKLOG, MuxError};
use proto::wire::{
    AgentMsg, Frame, FrameError, FrameKind, INITIAL_WINDOW, MAX_FRAME_BYTES, Side, StreamOpen,
    encode_control,
};

use crate::support::{RawPeer, closed, with_raw_peer, within};

/// The `Reset` on stream 0 a failing mux sends before it hangs up.
async fn goodbye(peer: &mut RawPeer) -> String {
    let frame = peer
        .next_frame(|f| f.stream_id() != 0)
        .await
        .expect("a goodbye before the transport closes");
    assert_eq!(frame.kind(), FrameKind::Reset);
    frame.reason().unwrap().to_owned()
}

#[tokio::test]
async fn data_for_an_unknown_stream_closes_the_connection_naming_it() {
    let (end, mut peer) = with_raw_peer(Side::Base);
    peer.send(Frame::data(7, b"hello?".to_vec()).unwrap()).await;
    let reason = closed(&end.mux).await;
    assert_eq!(
        reason,
        MuxError::UnknownStream {
            stream_id: 7,
            kind: FrameKind::Data
        }
    );
    assert!(reason.to_string().contains("stream 7"), "{reason}");
    assert!(goodbye(&mut peer).await.contains("stream 7"));
}

#[tokio::test]
async fn garbage_bytes_close_the_connection() {
    let samples: [(&[u8], FrameError); 2] = [
        (b"\xde\xad", FrameError::TooShort { len: 2 }),
        (b"GET / HTTP/1.1\r\n", FrameError::UnknownKind(b'/')),
    ];
    for (bytes, expected) in samples {
        let (end, mut peer) = with_raw_peer(Side::Agent);
        peer.send_bytes(bytes.to_vec()).await;
        assert_eq!(closed(&end.mux).await, MuxError::Frame(expected.clone()));
        assert!(goodbye(&mut peer).await.contains(&expected.to_string()));
    }
}

#[tokio::test]
async fn oversize_frame_closes_the_connection() {
    let (end, peer) = with_raw_peer(Side::Base);
    let mut bytes = Frame::data(1, Vec::new()).unwrap().encode();
    bytes.resize(MAX_FRAME_BYTES + 1, 0);
    peer.send_bytes(bytes).await;
    assert_eq!(
        closed(&end.mux).await,
        MuxError::Frame(FrameError::TooLarge {
            len: MAX_FRAME_BYTES + 1
        })
    );
}

#[tokio::test]
async fn overrunning_a_stream_window_closes_the_connection() {
    let (end, peer) = with_raw_peer(Side::Agent);
    peer.send(Frame::open(2, &StreamOpen::Echo).unwrap()).await;
    // Nobody accepts or reads the stream, so no credit comes back: the window is all there is.
    let chunk = vec![0; 64 * 1024];
    for _ in 0..INITIAL_WINDOW as usize / chunk.len() {
        peer.send(Frame::data(2, chunk.clone()).unwrap()).await;
    }
    peer.send(Frame::data(2, vec![1]).unwrap()).await;
    let reason = closed(&end.mux).await;
    assert!(
        matches!(reason, MuxError::Overrun { stream_id: 2, .. }),
        "{reason}"
    );
}

#[tokio::test]
async fn opening_a_stream_id_of_the_wrong_side_or_twice_closes_the_connection() {
    let (end, peer) = with_raw_peer(Side::Agent);
    peer.send(Frame::open(1, &StreamOpen::Echo).unwrap()).await;
    assert_eq!(closed(&end.mux).await, MuxError::BadOpen { stream_id: 1 });

    let (end, peer) = with_raw_peer(Side::Agent);
    peer.send(Frame::open(4, &StreamOpen::Echo).unwrap()).await;
    peer.send(Frame::open(2, &StreamOpen::Echo).unwrap()).await;
    assert_eq!(closed(&end.mux).await, MuxError::BadOpen { stream_id: 2 });
}

#[tokio::test]
async fn credit_overflow_closes_the_connection() {
    let (end, peer) = with_raw_peer(Side::Agent);
    let stream = end.mux.open(&StreamOpen::Echo).unwrap();
    peer.send(Frame::credit(stream.id(), u32::MAX).unwrap())
        .await;
    let reason = closed(&end.mux).await;
    assert!(
        matches!(reason, MuxError::CreditOverflow { stream_id: 1, .. }),
        "{reason}"
    );
}

#[tokio::test]
async fn data_after_close_closes_the_connection() {
    let (end, peer) = with_raw_peer(Side::Agent);
    peer.send(Frame::open(2, &StreamOpen::Echo).unwrap()).await;
    peer.send(Frame::close(2, None).unwrap()).await;
    peer.send(Frame::data(2, b"more".to_vec()).unwrap()).await;
    assert_eq!(
        closed(&end.mux).await,
        MuxError::AfterClose {
            stream_id: 2,
            kind: FrameKind::Data
        }
    );
}

#[tokio::test]
async fn unsupported_stream_type_is_refused_without_closing_the_connection() {
    let (mut end, mut peer) = with_raw_peer(Side::Agent);
    let open = Frame::new(2, FrameKind::Open, br#"{"Teleport":{}}"#.to_vec()).unwrap();
    peer.send(open).await;
    let refusal = peer.next_frame(|_| false).await.unwrap();
    assert_eq!((refusal.stream_id(), refusal.kind()), (2, FrameKind::Reset));
    assert_eq!(refusal.reason(), Some("unsupported stream type"));
    // Late data for the refused stream is dropped, and the connection carries on.
    peer.send(Frame::data(2, b"late".to_vec()).unwrap()).await;
    peer.send(encode_control(&AgentMsg::Heartbeat { seq: 1 }).unwrap())
        .await;
    let msg: AgentMsg = within(end.control.recv()).await.unwrap().unwrap();
    assert_eq!(msg, AgentMsg::Heartbeat { seq: 1 });
}

#[tokio::test]
async fn undecodable_control_message_is_reported_to_the_owner_only() {
    let (mut end, peer) = with_raw_peer(Side::Base);
    peer.send(Frame::control(br#"{"FromTheFuture":{}}"#.to_vec()).unwrap())
        .await;
    peer.send(encode_control(&AgentMsg::Heartbeat { seq: 2 }).unwrap())
        .await;
    assert!(
        within(end.control.recv::<AgentMsg>())
            .await
            .unwrap()
            .is_err()
    );
    let msg: AgentMsg = within(end.control.recv()).await.unwrap().unwrap();
    assert_eq!(msg, AgentMsg::Heartbeat { seq: 2 });
}

#[tokio::test]
async fn unread_control_backlog_closes_the_connection() {
    let (end, peer) = with_raw_peer(Side::Base);
    for seq in 0..=CONTROL_BACKLOG as u64 {
        peer.send(encode_control(&AgentMsg::Heartbeat { seq }).unwrap())
            .await;
    }
    assert_eq!(closed(&end.mux).await, MuxError::ControlBacklog);
}

#[tokio::test]
async fn peer_goodbye_reason_is_reported() {
    let (end, peer) = with_raw_peer(Side::Agent);
    peer.send(Frame::reset(0, "upgrading Base").unwrap()).await;
    assert_eq!(
        closed(&end.mux).await,
        MuxError::PeerAborted("upgrading Base".into())
    );
}

#[tokio::test]
async fn transport_end_closes_the_connection() {
    let (end, peer) = with_raw_peer(Side::Agent);
    drop(peer);
    assert_eq!(closed(&end.mux).await, MuxError::TransportEnded);
}
