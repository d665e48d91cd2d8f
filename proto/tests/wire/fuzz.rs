//! Property tests: the decoders face bytes from the network, so they must never panic on any
//! input, and whatever they accept must re-encode to exactly the same bytes (one encoding per
//! frame, so nothing can be smuggled past a check by an alternative spelling).
//!
//! Case counts are fixed so a run is comparable with the numbers recorded in BENCHMARKS.md:
//! [`DECODE_CASES`] (20,000) for each of the two `Frame::decode` fuzzers, [`CONTROL_CASES`]
//! (20,000) for each of the two `decode_control` fuzzers, and [`ROUND_TRIP_CASES`] (5,000) for
//! each of the two round-trip properties: 90,000 cases in all.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;
use proto::deploy::DeployState;
use proto::service::{GitSource, HealthCheck, RestartPolicy, ServiceSpec, Source};
use proto::wire::{
    AgentMsg, AgentState, BaseMsg, Command, CommandErrorKind, DeployOrder, DeployProgress, Frame,
    FrameKind, HostFacts, JoinToken, Lifecycle, MAX_CONTROL_BYTES, Outcome, RunState,
    ServiceReport, decode_control, encode_control,
};

/// Cases for each `Frame::decode` fuzzer.
pub const DECODE_CASES: u32 = 20_000;
/// Cases for each `decode_control` fuzzer.
pub const CONTROL_CASES: u32 = 20_000;
/// Cases for each round-trip property.
pub const ROUND_TRIP_CASES: u32 = 5_000;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Short strings of any chars (control characters and quotes included, to exercise JSON
/// escaping); `any::<String>()` is several times slower to generate in a debug build.
fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..16).prop_map(String::from_iter)
}

fn host() -> impl Strategy<Value = HostFacts> {
    (
        text(),
        text(),
        text(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(hostname, os, arch, cpus, memory_bytes, disk_bytes)| HostFacts {
                hostname,
                os,
                arch,
                cpus,
                memory_bytes,
                disk_bytes,
                ingress_domain: None,
            },
        )
}

fn deploy_state() -> impl Strategy<Value = DeployState> {
    proptest::sample::select(DeployState::ALL.to_vec())
}

fn progress() -> impl Strategy<Value = DeployProgress> {
    (
        text(),
        deploy_state(),
        option::of(text()),
        option::of(text()),
        vec(text(), 0..3),
    )
        .prop_map(
            |(deployment_id, state, commit, reason, log_tail)| DeployProgress {
                deployment_id: deployment_id.into(),
                state,
                commit,
                reason,
                log_tail,
                plan: Vec::new(),
            },
        )
}

fn report() -> impl Strategy<Value = ServiceReport> {
    let run = proptest::sample::select(vec![
        RunState::Running,
        RunState::Stopped,
        RunState::Crashed,
        RunState::Unhealthy,
    ]);
    (text(), run, any::<u32>()).prop_map(|(service_id, run, restarts)| ServiceReport {
        service_id: service_id.into(),
        run,
        restarts,
        reason: None,
    })
}

fn state() -> impl Strategy<Value = AgentState> {
    (vec(report(), 0..3), vec(progress(), 0..3)).prop_map(|(services, deployments)| AgentState {
        services,
        deployments,
        certificates: Vec::new(),
    })
}

fn command() -> impl Strategy<Value = Command> {
    let action = proptest::sample::select(vec![
        Lifecycle::Restart,
        Lifecycle::Stop,
        Lifecycle::Start,
        Lifecycle::Remove,
    ]);
    prop_oneof![
        Just(Command::Ping),
        (text(), text(), option::of(text()), any::<u32>()).prop_map(
            |(deployment_id, url, git_ref, build_timeout_secs)| {
                Command::Deploy(Box::new(DeployOrder {
                    deployment_id: deployment_id.into(),
                    service_id: "svc_1".into(),
                    instance_name: "web-1".into(),
                    spec: ServiceSpec {
                        name: "web".into(),
                        source: Source::Git(GitSource {
                            url,
                            branch: "main".into(),
                        }),
                        runtime: None,
                        build_command: None,
                        start_command: Some("npm start".into()),
                        port: None,
                        env: [("A".to_string(), "b".to_string())].into(),
                        health_check: HealthCheck::default(),
                        restart: RestartPolicy::Always,
                        domains: vec![],
                        build_timeout_secs: Some(60),
                        root_dir: None,
                        kind: None,
                        runtime_version: None,
                        resources: proto::resources::Resources {
                            memory_mb: Some(64),
                            ..Default::default()
                        },
                    },
                    git_ref,
                    build_timeout_secs,
                    drain_secs: 10,
                    secrets: Default::default(),
                }))
            }
        ),
        text().prop_map(|deployment_id| Command::CancelDeploy {
            deployment_id: deployment_id.into()
        }),
        (text(), text()).prop_map(|(service_id, deployment_id)| Command::Rollback {
            service_id: service_id.into(),
            deployment_id: deployment_id.into()
        }),
        (text(), action).prop_map(|(service_id, action)| Command::Service {
            service_id: service_id.into(),
            action
        }),
    ]
}

fn error_kind() -> impl Strategy<Value = CommandErrorKind> {
    proptest::sample::select(vec![
        CommandErrorKind::NotFound,
        CommandErrorKind::Conflict,
        CommandErrorKind::Invalid,
        CommandErrorKind::Failed,
    ])
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Ok),
        (error_kind(), text()).prop_map(|(kind, message)| Outcome::Err { kind, message }),
    ]
}

fn agent_msg() -> impl Strategy<Value = AgentMsg> {
    prop_oneof![
        (any::<u16>(), text(), host(), state()).prop_map(|(protocol, version, host, state)| {
            AgentMsg::Hello {
                protocol,
                version,
                host,
                state,
            }
        }),
        (any::<u16>(), text(), host(), text()).prop_map(|(protocol, token, host, version)| {
            AgentMsg::Enroll {
                protocol,
                token: JoinToken::new(token),
                host,
                version,
            }
        }),
        any::<u64>().prop_map(|seq| AgentMsg::Heartbeat { seq }),
        (any::<u64>(), outcome()).prop_map(|(id, outcome)| AgentMsg::Ack { id, outcome }),
        state().prop_map(|state| AgentMsg::Status { state }),
        progress().prop_map(AgentMsg::Deploy),
        report().prop_map(AgentMsg::Service),
    ]
}

fn base_msg() -> impl Strategy<Value = BaseMsg> {
    prop_oneof![
        (text(), any::<u32>()).prop_map(|(instance_id, heartbeat_secs)| {
            BaseMsg::Welcome {
                instance_id: instance_id.into(),
                heartbeat_secs,
            }
        }),
        text().prop_map(|instance_id| BaseMsg::Enrolled {
            instance_id: instance_id.into()
        }),
        text().prop_map(|reason| BaseMsg::Refused { reason }),
        any::<u64>().prop_map(|seq| BaseMsg::Heartbeat { seq }),
        (any::<u64>(), command()).prop_map(|(id, command)| BaseMsg::Command { id, command }),
    ]
}

fn valid_frame() -> impl Strategy<Value = Frame> {
    let id = || 1..=u32::MAX;
    prop_oneof![
        vec(any::<u8>(), 0..512).prop_map(|json| Frame::control(json).unwrap()),
        (id(), vec(any::<u8>(), 0..512))
            .prop_map(|(i, json)| Frame::new(i, FrameKind::Open, json).unwrap()),
        (id(), vec(any::<u8>(), 0..4096)).prop_map(|(i, bytes)| Frame::data(i, bytes).unwrap()),
        (id(), 1..=u32::MAX).prop_map(|(i, n)| Frame::credit(i, n).unwrap()),
        (id(), option::of(text()))
            .prop_map(|(i, reason)| Frame::close(i, reason.as_deref()).unwrap()),
        (any::<u32>(), text()).prop_map(|(i, reason)| Frame::reset(i, &reason).unwrap()),
    ]
}

/// Raw bytes, or bytes from JSON's alphabet and our variant names so the parser gets past the
/// first byte and into nesting, strings, escapes and numbers.
fn json_ish_bytes() -> impl Strategy<Value = Vec<u8>> {
    const ALPHABET: &[u8] = br#"{}[]":,.-+0123456789eE\u tfnrl"HelloAckHeartbeatseqid"#;
    prop_oneof![
        vec(any::<u8>(), 0..128),
        vec(proptest::sample::select(ALPHABET), 0..96),
    ]
}

/// Valid JSON of a message with some bytes overwritten and maybe cut short: close enough to
/// valid that the parser gets deep before it fails.
fn mutated(json: Vec<u8>, edits: &[(Index, u8)], cut: Option<Index>) -> Vec<u8> {
    let mut bytes = json;
    for (at, byte) in edits {
        let i = at.index(bytes.len());
        bytes[i] = *byte;
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len() + 1));
    }
    bytes
}

fn decode_all_ways(json: &[u8]) {
    if json.len() <= MAX_CONTROL_BYTES {
        let frame = Frame::control(json.to_vec()).unwrap();
        let _ = decode_control::<AgentMsg>(&frame);
        let _ = decode_control::<BaseMsg>(&frame);
    }
}

proptest! {
    #![proptest_config(config(DECODE_CASES))]

    #[test]
    fn frame_decode_never_panics_and_accepts_only_canonical_bytes(
        bytes in vec(any::<u8>(), 0..256)
    ) {
        if let Ok(frame) = Frame::decode(&bytes) {
            prop_assert_eq!(frame.encode(), bytes);
        }
    }

    #[test]
    fn frame_decode_of_plausible_headers_never_panics(
        id in prop_oneof![Just(0u32), Just(1), Just(2), Just(u32::MAX), any::<u32>()],
        kind in 0u8..8,
        payload in vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = id.to_be_bytes().to_vec();
        bytes.push(kind);
        bytes.extend_from_slice(&payload);
        if let Ok(frame) = Frame::decode(&bytes) {
            prop_assert_eq!(frame.stream_id(), id);
            prop_assert_eq!(frame.encode(), bytes);
        }
    }
}

proptest! {
    #![proptest_config(config(CONTROL_CASES))]

    #[test]
    fn decode_control_never_panics_on_arbitrary_bytes(bytes in json_ish_bytes()) {
        decode_all_ways(&bytes);
    }

    #[test]
    fn decode_control_never_panics_on_damaged_messages(
        agent in agent_msg(),
        base in base_msg(),
        edits in vec((any::<Index>(), any::<u8>()), 0..6),
        cut in option::of(any::<Index>()),
    ) {
        for json in [serde_json::to_vec(&agent).unwrap(), serde_json::to_vec(&base).unwrap()] {
            let damaged = mutated(json, &edits, cut);
            decode_all_ways(&damaged);
            let mut framed = vec![0, 0, 0, 0, 0];
            framed.extend_from_slice(&damaged);
            if let Ok(frame) = Frame::decode(&framed) {
                let _ = decode_control::<AgentMsg>(&frame);
                let _ = decode_control::<BaseMsg>(&frame);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(ROUND_TRIP_CASES))]

    #[test]
    fn valid_frames_round_trip(frame in valid_frame()) {
        prop_assert_eq!(Frame::decode(&frame.encode()).unwrap(), frame);
    }

    #[test]
    fn control_messages_round_trip(agent in agent_msg(), base in base_msg()) {
        let frame = encode_control(&agent).unwrap();
        prop_assert_eq!(decode_control::<AgentMsg>(&frame).unwrap(), agent);
        let frame = encode_control(&base).unwrap();
        prop_assert_eq!(decode_control::<BaseMsg>(&frame).unwrap(), base);
    }
}
