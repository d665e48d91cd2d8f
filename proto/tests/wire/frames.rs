//! Framing: every kind round-trips, and each rule of `Frame::decode` rejects what it should with
//! a message that names the problem.

use proto::wire::{
    Frame, FrameError, FrameKind, HEADER_BYTES, MAX_CONTROL_BYTES, MAX_DATA_BYTES, MAX_FRAME_BYTES,
    MAX_REASON_BYTES, Side, StreamOpen,
};

fn raw(stream_id: u32, kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = stream_id.to_be_bytes().to_vec();
    bytes.push(kind);
    bytes.extend_from_slice(payload);
    bytes
}

#[test]
fn every_kind_round_trips() {
    let frames = [
        Frame::control(br#"{"Heartbeat":{"seq":1}}"#.to_vec()).unwrap(),
        Frame::open(2, &StreamOpen::Echo).unwrap(),
        Frame::data(3, vec![1, 2, 3]).unwrap(),
        Frame::data(4, Vec::new()).unwrap(),
        Frame::credit(5, 4096).unwrap(),
        Frame::close(6, None).unwrap(),
        Frame::close(7, Some("done")).unwrap(),
        Frame::reset(8, "boom").unwrap(),
        Frame::reset(0, "going away").unwrap(),
    ];
    for frame in frames {
        let bytes = frame.encode();
        assert_eq!(bytes.len(), HEADER_BYTES + frame.payload().len());
        assert_eq!(Frame::decode(&bytes).unwrap(), frame);
    }
}

#[test]
fn header_is_big_endian_stream_id_then_kind() {
    let bytes = Frame::credit(0x0102_0304, 0x0A0B_0C0D).unwrap().encode();
    assert_eq!(bytes, [1, 2, 3, 4, 3, 0x0A, 0x0B, 0x0C, 0x0D]);
}

#[test]
fn accessors_expose_credit_and_reasons() {
    assert_eq!(Frame::credit(1, 77).unwrap().credit_bytes(), Some(77));
    assert_eq!(Frame::data(1, vec![0; 4]).unwrap().credit_bytes(), None);
    assert_eq!(Frame::close(1, Some("eof")).unwrap().reason(), Some("eof"));
    assert_eq!(Frame::close(1, None).unwrap().reason(), None);
    assert_eq!(Frame::reset(1, "x").unwrap().reason(), Some("x"));
}

#[test]
fn short_input_is_too_short() {
    for len in 0..HEADER_BYTES {
        let err = Frame::decode(&vec![0; len]).unwrap_err();
        assert_eq!(err, FrameError::TooShort { len });
    }
    assert!(
        FrameError::TooShort { len: 2 }
            .to_string()
            .contains("shorter than the 5-byte header")
    );
}

#[test]
fn oversize_frame_is_rejected_before_parsing() {
    let bytes = raw(1, 2, &vec![0; MAX_DATA_BYTES + 1]);
    assert_eq!(
        Frame::decode(&bytes),
        Err(FrameError::TooLarge {
            len: MAX_FRAME_BYTES + 1
        })
    );
    let largest = raw(1, 2, &vec![7; MAX_DATA_BYTES]);
    assert_eq!(
        Frame::decode(&largest).unwrap().payload().len(),
        MAX_DATA_BYTES
    );
    assert!(Frame::data(1, vec![0; MAX_DATA_BYTES + 1]).is_err());
}

#[test]
fn unknown_kind_is_rejected() {
    let err = Frame::decode(&raw(1, 6, b"")).unwrap_err();
    assert_eq!(err, FrameError::UnknownKind(6));
    assert_eq!(err.to_string(), "unknown frame kind 6");
}

#[test]
fn control_frames_live_only_on_stream_0() {
    let err = Frame::decode(&raw(3, 0, b"{}")).unwrap_err();
    assert_eq!(err, FrameError::ControlOffStream0 { stream_id: 3 });
    assert!(err.to_string().contains("stream 3"));
}

#[test]
fn stream_0_carries_only_control_and_connection_resets() {
    for kind in [
        FrameKind::Open,
        FrameKind::Data,
        FrameKind::Credit,
        FrameKind::Close,
    ] {
        let payload: &[u8] = if kind == FrameKind::Credit {
            &[0, 0, 0, 1]
        } else {
            b""
        };
        let err = Frame::decode(&raw(0, kind as u8, payload)).unwrap_err();
        assert_eq!(err, FrameError::NotOnStream0 { kind });
    }
}

#[test]
fn json_payloads_over_the_control_cap_are_rejected() {
    let big = vec![b' '; MAX_CONTROL_BYTES + 1];
    for (id, kind) in [(0, FrameKind::Control), (2, FrameKind::Open)] {
        let err = Frame::decode(&raw(id, kind as u8, &big)).unwrap_err();
        assert!(matches!(err, FrameError::PayloadTooLarge { kind: k, .. } if k == kind));
    }
}

#[test]
fn credit_must_be_four_nonzero_bytes() {
    for payload in [&[][..], &[0, 0, 1], &[0, 0, 0, 0], &[0, 0, 0, 1, 0]] {
        assert_eq!(
            Frame::decode(&raw(1, 3, payload)),
            Err(FrameError::BadCredit)
        );
    }
    assert_eq!(Frame::credit(1, 0), Err(FrameError::BadCredit));
}

#[test]
fn reasons_must_be_utf8_and_are_truncated_to_the_cap() {
    let err = Frame::decode(&raw(1, 5, &[0xff, 0xfe])).unwrap_err();
    assert_eq!(
        err,
        FrameError::BadReason {
            kind: FrameKind::Reset
        }
    );
    let long = "é".repeat(MAX_REASON_BYTES);
    let frame = Frame::reset(1, &long).unwrap();
    let reason = frame.reason().unwrap();
    assert!(reason.len() <= MAX_REASON_BYTES && long.starts_with(reason));
    assert_eq!(Frame::decode(&frame.encode()).unwrap(), frame);
}

#[test]
fn sides_open_disjoint_stream_ids() {
    assert_eq!(Side::Base.first_stream_id(), 2);
    assert_eq!(Side::Agent.first_stream_id(), 1);
    for id in 1..100 {
        assert_ne!(Side::Base.opens(id), Side::Agent.opens(id), "id {id}");
    }
    assert!(!Side::Base.opens(0) && !Side::Agent.opens(0));
    assert_eq!(Side::Base.peer(), Side::Agent);
}
