//! Control messages: the JSON shape is the contract, so it is pinned here, and the size cap and
//! frame-kind checks hold.

use proto::deploy::DeployState;
use proto::wire::{
    AgentMsg, AgentState, BaseMsg, Command, CommandErrorKind, ControlError, Frame, HostFacts,
    JoinToken, MAX_CONTROL_BYTES, Outcome, PROTOCOL_VERSION, decode_control, encode_control,
};
use proto::wire::{DeployProgress, RunState, ServiceReport};

pub fn host() -> HostFacts {
    HostFacts {
        hostname: "web-1".into(),
        os: "Debian GNU/Linux 12 (bookworm)".into(),
        arch: "x86_64".into(),
        cpus: 4,
        memory_bytes: 8 << 30,
        disk_bytes: 100 << 30,
        ingress_domain: Some("apps.example.net".into()),
    }
}

#[test]
fn agent_messages_round_trip() {
    let msgs = [
        AgentMsg::Hello {
            protocol: PROTOCOL_VERSION,
            version: "0.1.0".into(),
            host: host(),
            state: AgentState::default(),
        },
        AgentMsg::Enroll {
            protocol: PROTOCOL_VERSION,
            token: JoinToken::new("jt_secret"),
            host: host(),
            version: "0.1.0".into(),
        },
        AgentMsg::Heartbeat { seq: 9 },
        AgentMsg::Ack {
            id: 4,
            outcome: Outcome::Ok,
        },
        AgentMsg::Ack {
            id: 5,
            outcome: Outcome::err(CommandErrorKind::NotFound, "no"),
        },
        AgentMsg::Ack {
            id: 6,
            outcome: Outcome::err(CommandErrorKind::Failed, "no"),
        },
        AgentMsg::Status {
            state: AgentState {
                services: vec![ServiceReport {
                    service_id: "svc_1".into(),
                    run: RunState::Crashed,
                    restarts: 3,
                    reason: Some("exit code 1".into()),
                }],
                deployments: vec![DeployProgress {
                    deployment_id: "dep_2".into(),
                    state: DeployState::Failed,
                    commit: Some("abc".into()),
                    reason: Some("health check failed".into()),
                    log_tail: vec!["Error: boom".into()],
                    plan: Vec::new(),
                }],
                certificates: vec![proto::wire::CertReport {
                    domain: "shop.example.com".into(),
                    state: proto::wire::CertState::Issued {
                        expires_at_ms: 1_800_000_000_000,
                        issuer: "Test CA".into(),
                    },
                }],
            },
        },
        AgentMsg::Metrics(proto::wire::MetricsFrame {
            at_ms: 1_700_000_000_000,
            host: proto::wire::HostSample {
                cpu_centi_pct: Some(1_234),
                load_centi: [52, 120, 1_000],
                mem_used_bytes: 1 << 30,
                mem_total_bytes: 4 << 30,
                ..Default::default()
            },
            services: vec![proto::wire::ServiceSample {
                service_id: "svc_1".into(),
                cpu_centi_pct: None,
                mem_bytes: Some(100 << 20),
                restarts: 1,
                requests: Some(proto::wire::RequestSample {
                    requests: 10,
                    status: [7, 1, 1, 1],
                    bytes_in: 100,
                    bytes_out: 1000,
                    latency_us: Some(proto::wire::Percentiles {
                        p50: 900,
                        p95: 4_000,
                        p99: 12_000,
                    }),
                }),
            }],
        }),
    ];
    for msg in msgs {
        let frame = encode_control(&msg).unwrap();
        assert_eq!(decode_control::<AgentMsg>(&frame).unwrap(), msg);
    }
}

/// One frame carries a whole instance: 200 services, each with request figures of a busy
/// service, fit under the control-message cap with room to spare.
#[test]
fn a_metrics_frame_of_many_services_fits_one_control_message() {
    let services = (0..200)
        .map(|i| proto::wire::ServiceSample {
            service_id: format!("svc_01JABCDEFGHJKMNPQRSTVWXYZ{i:03}")
                .as_str()
                .into(),
            cpu_centi_pct: Some(10_000),
            mem_bytes: Some(u64::from(u32::MAX)),
            restarts: 99,
            requests: Some(proto::wire::RequestSample {
                requests: 9_999_999,
                status: [9_999_999, 999_999, 999_999, 999_999],
                bytes_in: 99_999_999_999,
                bytes_out: 99_999_999_999,
                latency_us: Some(proto::wire::Percentiles {
                    p50: 999_999,
                    p95: 9_999_999,
                    p99: 99_999_999,
                }),
            }),
        })
        .collect();
    let msg = AgentMsg::Metrics(proto::wire::MetricsFrame {
        at_ms: 1_700_000_000_000,
        host: proto::wire::HostSample::default(),
        services,
    });
    let frame = encode_control(&msg).unwrap();
    assert!(
        frame.payload().len() < MAX_CONTROL_BYTES * 3 / 4,
        "{}",
        frame.payload().len()
    );
}

#[test]
fn base_messages_round_trip() {
    let msgs = [
        BaseMsg::Welcome {
            instance_id: "ins_1".into(),
            heartbeat_secs: 15,
        },
        BaseMsg::Enrolled {
            instance_id: "ins_1".into(),
        },
        BaseMsg::Refused {
            reason: "revoked".into(),
        },
        BaseMsg::Heartbeat { seq: 1 },
        BaseMsg::Command {
            id: 42,
            command: Command::Ping,
        },
    ];
    for msg in msgs {
        let frame = encode_control(&msg).unwrap();
        assert_eq!(decode_control::<BaseMsg>(&frame).unwrap(), msg);
    }
}

#[test]
fn json_shape_is_externally_tagged() {
    let frame = encode_control(&BaseMsg::Command {
        id: 7,
        command: Command::Ping,
    })
    .unwrap();
    assert_eq!(frame.payload(), br#"{"Command":{"id":7,"command":"Ping"}}"#);
    let ack = encode_control(&AgentMsg::Ack {
        id: 7,
        outcome: Outcome::err(CommandErrorKind::Failed, "x"),
    })
    .unwrap();
    assert_eq!(
        ack.payload(),
        br#"{"Ack":{"id":7,"outcome":{"Err":{"message":"x"}}}}"#
    );
}

#[test]
fn a_command_error_names_its_kind_unless_it_is_a_plain_failure() {
    let ack = AgentMsg::Ack {
        id: 7,
        outcome: Outcome::err(CommandErrorKind::NotFound, "x"),
    };
    let frame = encode_control(&ack).unwrap();
    assert_eq!(
        frame.payload(),
        br#"{"Ack":{"id":7,"outcome":{"Err":{"kind":"not_found","message":"x"}}}}"#
    );
    let plain = Frame::control(br#"{"Ack":{"id":7,"outcome":{"Err":{"message":"x"}}}}"#.to_vec());
    assert_eq!(
        decode_control::<AgentMsg>(&plain.unwrap()).unwrap(),
        AgentMsg::Ack {
            id: 7,
            outcome: Outcome::err(CommandErrorKind::Failed, "x"),
        }
    );
}

#[test]
fn unknown_fields_are_ignored_for_forward_compatibility() {
    let frame = Frame::control(br#"{"Heartbeat":{"seq":3,"added_later":true}}"#.to_vec()).unwrap();
    assert_eq!(
        decode_control::<BaseMsg>(&frame).unwrap(),
        BaseMsg::Heartbeat { seq: 3 }
    );
}

#[test]
fn unknown_variant_and_wrong_direction_are_errors() {
    let frame = Frame::control(br#"{"Deploy":{}}"#.to_vec()).unwrap();
    assert!(matches!(
        decode_control::<BaseMsg>(&frame),
        Err(ControlError::Json(_))
    ));
    let welcome = encode_control(&BaseMsg::Enrolled {
        instance_id: "i".into(),
    })
    .unwrap();
    assert!(decode_control::<AgentMsg>(&welcome).is_err());
}

#[test]
fn oversize_control_message_is_refused_on_encode() {
    let msg = BaseMsg::Refused {
        reason: "x".repeat(MAX_CONTROL_BYTES),
    };
    let err = encode_control(&msg).unwrap_err();
    assert!(matches!(err, ControlError::TooLarge { len } if len > MAX_CONTROL_BYTES));
    assert!(err.to_string().contains("65536-byte cap"));
}

#[test]
fn decode_control_refuses_non_control_frames() {
    let data = Frame::data(1, b"{}".to_vec()).unwrap();
    let err = decode_control::<BaseMsg>(&data).unwrap_err();
    assert_eq!(err.to_string(), "expected a Control frame, got Data");
}

#[test]
fn join_token_never_prints() {
    let msg = AgentMsg::Enroll {
        protocol: PROTOCOL_VERSION,
        token: JoinToken::new("jt_very_secret"),
        host: host(),
        version: "0.1.0".into(),
    };
    let debug = format!("{msg:?}");
    assert!(!debug.contains("jt_very_secret"), "{debug}");
    assert!(debug.contains("[redacted]"));
    let json = String::from_utf8(encode_control(&msg).unwrap().into_payload()).unwrap();
    assert!(
        json.contains(r#""token":"jt_very_secret""#),
        "token is a bare string: {json}"
    );
}

/// A protocol-3 agent from before request metrics sends services without `req`; Base parses it.
#[test]
fn a_service_sample_without_request_figures_still_parses() {
    let json = r#"{"service_id":"svc_1","mem_bytes":5,"restarts":0}"#;
    let s: proto::wire::ServiceSample = serde_json::from_str(json).unwrap();
    assert_eq!((s.mem_bytes, s.requests), (Some(5), None));
}
