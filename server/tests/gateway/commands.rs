//! The command path Base -> agent -> ack over the real gateway (mutual TLS on loopback, real
//! dployrd code). `TestApp` runs Base behind `server::run`, where no test can reach the
//! `Registry`, so these tests build a `control::Base` themselves and serve its gateway the way
//! `server::run` does.

use std::time::{Duration, Instant};

use agent::dial::{self, Ws};
use agent::state::DataDir;
use agent::tls::{AgentIdentity, client_config};
use control::gateway::registry::CommandError;
use control::gateway::tls::{Identity, server_config};
use control::{Actor, Base, BaseConfig, ClientInfo, GatewayInfo, Store};
use proto::api::SignupRequest;
use proto::wire::{
    AgentMsg, AgentState, BaseMsg, Command, CommandErrorKind, HostFacts, Outcome, PROTOCOL_VERSION,
};
use tokio::sync::oneshot;

use crate::{Invite, RunningAgent};

/// Long enough for a loaded CI machine; the tests that expect an answer never wait this long.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A Base whose gateway serves on loopback, with one signed-up owner.
pub struct Gateway {
    pub base: Base,
    pub owner: Actor,
    pub cluster: String,
    /// The DNS server domain verification asks (`BaseConfig::dns_server`).
    pub dns: testkit::dns::DnsServer,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    pub async fn start() -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
        let identity = Identity::load_or_create(dir.path()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = BaseConfig::new("http://127.0.0.1:9".parse().unwrap());
        // A replaced release drains for 2 s instead of 10, so tests that watch it stop wait less.
        config.limits.drain_secs = 2;
        let dns = testkit::dns::DnsServer::start();
        config.dns_server = Some(dns.addr());
        config.gateway = GatewayInfo {
            url: format!("wss://{}", listener.local_addr().unwrap()),
            pin: identity.pin(),
            agent_sha256: None,
        };
        let base = Base::new(store, config);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(control::gateway::listener::serve(
            base.clone(),
            listener,
            server_config(&identity).unwrap(),
            async {
                let _ = stopped.await;
            },
        ));
        let signup = SignupRequest {
            email: "ana@example.com".into(),
            password: "correct horse battery".into(),
            name: "Ana".into(),
        };
        let done = base.signup(signup, &ClientInfo::default()).await.unwrap();
        let owner = base
            .authenticate(&done.session.token, ClientInfo::default())
            .await
            .unwrap();
        Gateway {
            base,
            owner,
            cluster: done.cluster.id,
            dns,
            _stop: stop,
            _dir: dir,
        }
    }

    /// A Gateway with a dployrd joined as `name` and online; the invite it used and the agent.
    pub async fn with_agent(name: &str) -> (Gateway, Invite, RunningAgent) {
        let gw = Gateway::start().await;
        let invite = gw.invite(name).await;
        let agent = RunningAgent::join_and_run(&invite).await;
        gw.wait_online(&invite.instance_id, true).await;
        (gw, invite, agent)
    }

    /// Adds an instance and takes its install command apart, as an operator would.
    pub async fn invite(&self, name: &str) -> Invite {
        let made = self
            .base
            .create_instance(&self.owner, &self.cluster, name)
            .await
            .unwrap();
        Invite::from_install_command(made.instance.id, &made.install_command)
    }

    /// Creates the service `spec` (a `CreateServiceRequest` as JSON) as the owner; its id.
    pub async fn service(&self, spec: serde_json::Value) -> String {
        let req = serde_json::from_value(spec).expect("a CreateServiceRequest");
        let made = self.base.create_service(&self.owner, &self.cluster, req);
        made.await.unwrap().id
    }

    /// Enrolls a dployrd for `invite` in a new temp dir without running it.
    pub async fn enroll(&self, invite: &Invite) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir(dir.path().into());
        agent::join::join(&data, &invite.url, &invite.token, &invite.pin)
            .await
            .unwrap();
        dir
    }

    /// Waits (on registry changes, not a clock) until `instance` is online or not.
    pub async fn wait_online(&self, instance: &str, online: bool) {
        let registry = self.base.registry();
        let mut changes = registry.subscribe_any();
        tokio::time::timeout(PATIENCE, async {
            while registry.is_online(instance) != online {
                changes.changed().await.unwrap();
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{instance} online={online} within {PATIENCE:?}"));
    }

    pub async fn ping(&self, instance: &str, timeout: Duration) -> Result<Outcome, CommandError> {
        self.base
            .registry()
            .send_command(instance, Command::Ping, timeout)
            .await
    }

    /// A ping whose caller waits in the background while the test plays the agent.
    fn spawn_ping(
        &self,
        instance: &str,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<Result<Outcome, CommandError>> {
        let (base, instance) = (self.base.clone(), instance.to_string());
        tokio::spawn(async move {
            let registry = base.registry();
            registry
                .send_command(&instance, Command::Ping, timeout)
                .await
        })
    }
}

/// An agent driven by the test: enrolled and past `Hello`, answering only what the test says.
pub(crate) async fn hand_agent(invite: &Invite) -> (Ws, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    agent::join::join(
        &DataDir(dir.path().into()),
        &invite.url,
        &invite.token,
        &invite.pin,
    )
    .await
    .unwrap();
    let identity = AgentIdentity::load_or_create(dir.path()).unwrap();
    let tls = client_config(&invite.pin, Some(&identity)).unwrap();
    let mut ws = dial::dial(&invite.url, tls).await.unwrap();
    let hello = AgentMsg::Hello {
        protocol: PROTOCOL_VERSION,
        version: "test".into(),
        host: HostFacts::detect(),
        state: AgentState::default(),
    };
    dial::send(&mut ws, &hello).await.unwrap();
    let welcome = dial::recv(&mut ws).await.unwrap();
    assert!(
        matches!(welcome, Some(BaseMsg::Welcome { .. })),
        "{welcome:?}"
    );
    (ws, dir)
}

/// The next command Base sends the hand agent, skipping heartbeats.
async fn next_command(ws: &mut Ws) -> u64 {
    loop {
        match dial::recv(ws).await.unwrap() {
            Some(BaseMsg::Command { id, command }) => {
                assert_eq!(command, Command::Ping);
                return id;
            }
            Some(BaseMsg::Heartbeat { .. }) => continue,
            other => panic!("expected a command, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_to_an_online_agent_is_acked_ok() {
    let (gw, invite, _agent) = Gateway::with_agent("web-1").await;
    assert_eq!(
        gw.ping(&invite.instance_id, PATIENCE).await,
        Ok(Outcome::Ok)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_to_unknown_enrolled_or_departed_instances_are_offline_at_once() {
    let gw = Gateway::start().await;
    // `Offline` (not `Timeout`) under a short outer deadline proves nobody waited for an ack.
    let quick = |instance: String| {
        let gw = &gw;
        async move {
            tokio::time::timeout(Duration::from_secs(2), gw.ping(&instance, PATIENCE * 6))
                .await
                .expect("answered without waiting for the command timeout")
        }
    };
    assert_eq!(
        quick("ins_unknown".into()).await,
        Err(CommandError::Offline)
    );

    let enrolled_only = gw.invite("never-runs").await;
    let _dir = gw.enroll(&enrolled_only).await;
    assert_eq!(
        quick(enrolled_only.instance_id).await,
        Err(CommandError::Offline)
    );

    let departed = gw.invite("departs").await;
    let agent = RunningAgent::join_and_run(&departed).await;
    gw.wait_online(&departed.instance_id, true).await;
    drop(agent);
    gw.wait_online(&departed.instance_id, false).await;
    assert_eq!(
        quick(departed.instance_id).await,
        Err(CommandError::Offline)
    );
}

/// Also what `.ci/bench-agents` runs (release, `--nocapture`) to report the round trip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sequential_pings_all_succeed() {
    const PINGS: usize = 1000;
    let (gw, invite, _agent) = Gateway::with_agent("web-1").await;
    let mut took = Vec::with_capacity(PINGS);
    for n in 0..PINGS {
        let start = Instant::now();
        let got = gw.ping(&invite.instance_id, PATIENCE).await;
        took.push(start.elapsed());
        assert_eq!(got, Ok(Outcome::Ok), "ping {n}");
    }
    took.sort();
    let us = |q: usize| took[(PINGS * q / 100).min(PINGS - 1)].as_secs_f64() * 1e6;
    // Printed, never asserted: timing belongs to the benchmark, not to a test's verdict.
    println!(
        "ping round trip over {PINGS} sequential pings: p50 {:.0} us, p99 {:.0} us, max {:.0} us",
        us(50),
        us(99),
        took[PINGS - 1].as_secs_f64() * 1e6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_are_matched_by_id_and_stray_or_repeated_acks_are_ignored() {
    let gw = Gateway::start().await;
    let invite = gw.invite("by-hand").await;
    let (mut ws, _dir) = hand_agent(&invite).await;
    gw.wait_online(&invite.instance_id, true).await;

    let first = gw.spawn_ping(&invite.instance_id, PATIENCE);
    let cmd = next_command(&mut ws).await;
    let failed = Outcome::err(CommandErrorKind::Failed, "disk full");
    let acks = [
        (cmd.wrapping_add(1000), Outcome::Ok),
        (cmd, failed.clone()),
        (cmd, Outcome::Ok),
    ];
    for (id, outcome) in acks {
        dial::send(&mut ws, &AgentMsg::Ack { id, outcome })
            .await
            .unwrap();
    }
    assert_eq!(
        first.await.unwrap(),
        Ok(failed),
        "the first matching ack wins"
    );

    // The strays did not hurt the connection: the next command goes through.
    let second = gw.spawn_ping(&invite.instance_id, PATIENCE);
    let next = next_command(&mut ws).await;
    assert_ne!(next, cmd, "every command gets a fresh id");
    dial::send(
        &mut ws,
        &AgentMsg::Ack {
            id: next,
            outcome: Outcome::Ok,
        },
    )
    .await
    .unwrap();
    assert_eq!(second.await.unwrap(), Ok(Outcome::Ok));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_commands_time_out_and_a_dropped_connection_loses_them() {
    let gw = Gateway::start().await;
    let invite = gw.invite("by-hand").await;
    let (mut ws, _dir) = hand_agent(&invite).await;
    gw.wait_online(&invite.instance_id, true).await;

    // Long enough that the command surely reaches the agent before its caller gives up (Base
    // does not send commands whose caller already timed out).
    let short = Duration::from_secs(2);
    let unanswered = gw.spawn_ping(&invite.instance_id, short);
    next_command(&mut ws).await;
    assert_eq!(unanswered.await.unwrap(), Err(CommandError::Timeout(short)));

    let in_flight = gw.spawn_ping(&invite.instance_id, PATIENCE);
    next_command(&mut ws).await;
    ws.close(None).await.unwrap();
    drop(ws);
    assert_eq!(in_flight.await.unwrap(), Err(CommandError::ConnectionLost));
}
