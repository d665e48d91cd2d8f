//! The gateway listener: accepts TLS (client certificate required), upgrades to a WebSocket, and
//! runs one agent connection per socket. The first message decides what the connection is:
//! `Enroll` (a new agent presenting its join token: pin its certificate, answer, close) or
//! `Hello` (an enrolled agent: register it online, then run the multiplexer over the socket:
//! heartbeats, Base's commands and the agent's acks on stream 0, and the byte streams Base opens,
//! until either side goes away or Base revokes it). Anything else, or
//! anything malformed, closes that connection only, with the reason logged. The handshake
//! messages go through [`proto::wire::handshake`], the same code dployrd uses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use proto::tls::fingerprint;
use proto::wire::handshake;
use proto::wire::{
    self, AgentMsg, AgentState, BaseMsg, ControlReceiver, Incoming, Mux, MuxError, Outcome, Side,
    StreamOpen,
};
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use super::coalesce::coalesce;
pub use super::conn_error::ConnError;
use super::preauth::{Admission, MAX_PENDING, MAX_PENDING_PER_IP, PreAuth};
use super::registry::Pending;
use crate::{Base, ClientInfo, DomainError};

/// How long a client may take to finish TLS + WebSocket handshakes and say its first message.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type Ws = tokio_tungstenite::WebSocketStream<tokio_rustls::server::TlsStream<TcpStream>>;

/// Accepts agent connections until `shutdown` resolves, then drops every open one, so agents
/// notice at once and reconnect to whichever Base comes next.
pub async fn serve(
    base: Base,
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    let acceptor = TlsAcceptor::from(tls);
    tokio::pin!(shutdown);
    let mut open = tokio::task::JoinSet::new();
    let gate = PreAuth::new(MAX_PENDING, MAX_PENDING_PER_IP);
    loop {
        // Forget connections that ended, so the set does not grow.
        while open.try_join_next().is_some() {}
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "gateway accept failed");
                    continue;
                }
            },
        };
        let Some(admitted) = gate.admit(peer.ip()) else {
            tracing::debug!(%peer, "gateway: too many handshakes in progress; connection dropped");
            continue;
        };
        let base = base.clone();
        let acceptor = acceptor.clone();
        let span = tracing::info_span!("agent", %peer, instance.id = tracing::field::Empty);
        open.spawn(
            async move {
                match connection(base, acceptor, tcp, peer, admitted).await {
                    Ok(()) | Err(ConnError::Killed) => tracing::info!("agent connection closed"),
                    Err(e) => tracing::warn!(reason = %e, "agent connection closed"),
                }
            }
            .instrument(span),
        );
    }
    open.abort_all();
    while open.join_next().await.is_some() {}
}

async fn refuse(ws: &mut Ws, reason: String) -> ConnError {
    let refused = BaseMsg::Refused {
        reason: reason.clone(),
    };
    let _ = handshake::send(ws, &refused).await;
    let _ = ws.close(None).await;
    ConnError::Refused(reason)
}

async fn connection(
    base: Base,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    admitted: Admission,
) -> Result<(), ConnError> {
    let (mut ws, fp, first) = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        let tls = acceptor.accept(tcp).await.map_err(ConnError::Tls)?;
        let cert = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or(ConnError::NoCertificate)?;
        let fp = fingerprint(cert);
        let config = Some(handshake::ws_config());
        let mut ws = tokio_tungstenite::accept_async_with_config(tls, config).await?;
        let first = handshake::recv(&mut ws).await?;
        Ok::<_, ConnError>((ws, fp, first))
    })
    .await
    .map_err(|_| ConnError::Timeout)??;

    let client = ClientInfo {
        ip: Some(peer.ip().to_string()),
        user_agent: Some("dployrd".into()),
    };
    // Both first messages carry the agent's protocol: one Base does not speak is refused first.
    if let Some(AgentMsg::Enroll { protocol, .. } | AgentMsg::Hello { protocol, .. }) = &first
        && let Err(reason) = speaks(*protocol)
    {
        return Err(refuse(&mut ws, reason).await);
    }
    match first {
        None => Ok(()),
        Some(AgentMsg::Enroll {
            token,
            host,
            version,
            ..
        }) => {
            match base
                .enroll(token.expose(), &fp, &version, &host, &client)
                .await
            {
                Ok(done) => {
                    tracing::info!(instance.id = %done.instance_id, "agent enrolled");
                    let enrolled = BaseMsg::Enrolled {
                        instance_id: done.instance_id.into(),
                    };
                    handshake::send(&mut ws, &enrolled).await?;
                    let _ = ws.close(None).await;
                    Ok(())
                }
                Err(e @ (DomainError::Unauthorized(_) | DomainError::Conflict(_))) => {
                    Err(refuse(&mut ws, e.to_string()).await)
                }
                Err(e) => Err(e.into()),
            }
        }
        Some(AgentMsg::Hello {
            version,
            host,
            state,
            ..
        }) => {
            // A deleted instance's agent with services still to remove comes in once more,
            // for that alone (`crate::removals`).
            // A retired instance is in no cluster's views: its cluster is "".
            let (instance_id, cluster_id, retired) = match base.instance_by_fingerprint(&fp).await?
            {
                Some(instance) => (instance.id, instance.cluster_id, false),
                None => match base.retired_instance(&fp).await? {
                    Some(id) => (id, String::new(), true),
                    None => {
                        return Err(refuse(
                            &mut ws,
                            "this certificate is not enrolled (was the instance removed?)".into(),
                        )
                        .await);
                    }
                },
            };
            tracing::Span::current().record("instance.id", instance_id.as_str());
            // A known agent: no longer one of the handshakes in progress.
            drop(admitted);
            base.instance_seen(&instance_id, &version, &host).await?;
            // From here on the connection is multiplexed: control on stream 0, and byte
            // streams Base or the agent open next to it.
            let (mux, control, incoming) = wire::mux::over_websocket(ws, Side::Base);
            // Welcome goes out before the registry offers the connection to the rest of Base,
            // so nothing (a command, a stream) can reach the agent ahead of it.
            mux.send_control(&BaseMsg::Welcome {
                instance_id: instance_id.clone().into(),
                heartbeat_secs: base.limits().heartbeat.as_secs() as u32,
            })?;
            let mut reg = base
                .registry()
                .register(&instance_id, &cluster_id, mux.clone());
            // Deleted between the lookup and `register` (audit finding L13): its `disconnect`
            // found nothing to kill yet, so this connection must not stay.
            if !retired
                && base
                    .instance_by_fingerprint(&fp)
                    .await?
                    .is_none_or(|i| i.id != instance_id)
            {
                base.registry().unregister(&reg);
                mux.close();
                return Err(ConnError::Killed);
            }
            // Recorded for the other replicas (a retired instance has no row to record on).
            let claimed = match retired {
                false => base.claim_connection(&instance_id, &cluster_id).await,
                true => None,
            };
            tracing::info!(%version, "agent online");
            base.note_instance_address(&instance_id, peer.ip());
            // Reconcile what the agent reports and deliver what it has not accepted; this sends
            // commands, so it runs beside the session that carries them.
            // One reconcile at a time per connection; Status reports arriving meanwhile
            // coalesce into the latest (L2). A retired instance is let go after the first.
            let (status, reports) = watch::channel(state);
            let settle = tokio::spawn(settle(base.clone(), instance_id.clone(), reports, retired));
            let kill = reg.kill.clone();
            let tunnel = Tunnel {
                mux: mux.clone(),
                control,
                incoming,
            };
            let result =
                session(&base, &instance_id, tunnel, kill, &mut reg.commands, status).await;
            settle.abort();
            base.registry().unregister(&reg);
            if let Some(epoch) = claimed {
                base.release_connection(&instance_id, &cluster_id, epoch)
                    .await;
            }
            let _ = base.instance_seen(&instance_id, &version, &host).await;
            mux.close();
            result
        }
        Some(other) => Err(refuse(
            &mut ws,
            format!("expected Hello or Enroll first, got {other:?}"),
        )
        .await),
    }
}

/// Whether Base speaks the agent's `protocol`; if not, why, for the agent's log.
fn speaks(protocol: u16) -> Result<(), String> {
    if (wire::MIN_PROTOCOL_VERSION..=wire::PROTOCOL_VERSION).contains(&protocol) {
        Ok(())
    } else {
        Err(format!(
            "protocol {protocol} is not supported (Base speaks {} to {})",
            wire::MIN_PROTOCOL_VERSION,
            wire::PROTOCOL_VERSION
        ))
    }
}

/// An online agent's multiplexed connection.
struct Tunnel {
    mux: Mux,
    control: ControlReceiver,
    incoming: Incoming,
}

/// An online agent, welcomed: heartbeats both ways, and Base's commands out with their acks back,
/// until the agent leaves, goes silent, breaks the protocol, or is revoked. Commands still waiting
/// for an ack when it ends are dropped with it, which tells their callers `ConnectionLost`.
async fn session(
    base: &Base,
    instance_id: &str,
    mut tunnel: Tunnel,
    mut kill: watch::Receiver<bool>,
    commands: &mut mpsc::Receiver<Pending>,
    status: watch::Sender<AgentState>,
) -> Result<(), ConnError> {
    let mux = tunnel.mux.clone();
    let send = |msg: &BaseMsg| mux.send_control(msg).map_err(ConnError::from);
    let heartbeat = base.limits().heartbeat;
    let mut tick = tokio::time::interval(heartbeat);
    let progress_queue = base.progress_queue(instance_id);
    let mut seq = 0u64;
    let mut last_heard = tokio::time::Instant::now();
    let mut awaiting: HashMap<u64, oneshot::Sender<Outcome>> = HashMap::new();
    loop {
        tokio::select! {
            _ = kill.changed() => return Err(ConnError::Killed),
            _ = tick.tick() => {
                if last_heard.elapsed() > heartbeat * 3 {
                    return Err(ConnError::Silent);
                }
                // Callers that timed out stopped listening; forgetting their commands keeps an
                // agent that never acks from growing this map.
                awaiting.retain(|_, reply| !reply.is_closed());
                seq += 1;
                send(&BaseMsg::Heartbeat { seq })?;
            }
            Some(Pending { id, command, reply }) = commands.recv() => {
                // Its caller timed out while it queued: not sent, so a `Timeout` queued behind a
                // slow agent never turns into work done later that nobody waits for.
                if reply.is_closed() {
                    continue;
                }
                send(&BaseMsg::Command { id, command })?;
                awaiting.insert(id, reply);
            }
            Some(stream) = tunnel.incoming.accept() => {
                last_heard = tokio::time::Instant::now();
                match stream.purpose().clone() {
                    StreamOpen::Logs => {
                        let (base, id) = (base.clone(), instance_id.to_string());
                        tokio::spawn(async move { base.ingest_logs(&id, stream).await });
                    }
                    // Each refused alone; the connection stays up.
                    other => stream.reset(&format!("Base does not accept {other:?} streams")),
                }
            }
            msg = tunnel.control.recv::<AgentMsg>() => match msg {
                None => return ended(mux.closed().await),
                Some(Err(e)) => return Err(ConnError::Control(e)),
                Some(Ok(AgentMsg::Heartbeat { .. })) => last_heard = tokio::time::Instant::now(),
                Some(Ok(AgentMsg::Ack { id, outcome })) => {
                    last_heard = tokio::time::Instant::now();
                    match awaiting.remove(&id) {
                        Some(reply) => {
                            let _ = reply.send(outcome);
                        }
                        // A repeated ack (acks are idempotent by protocol), or one for a command
                        // whose caller gave up: nobody is waiting, so there is nothing to do.
                        None => tracing::debug!(id, ?outcome, "ack for no waiting command"),
                    }
                }
                Some(Ok(AgentMsg::Deploy(progress))) => {
                    last_heard = tokio::time::Instant::now();
                    // Recorded in order, with retries, by the queue's own task.
                    let _ = progress_queue.send(progress);
                }
                Some(Ok(AgentMsg::Service(report))) => {
                    last_heard = tokio::time::Instant::now();
                    if let Err(e) = base.record_service(instance_id, &report).await {
                        tracing::warn!(service = %report.service_id, error = %e, "service report refused");
                    }
                }
                Some(Ok(AgentMsg::Status { state })) => {
                    last_heard = tokio::time::Instant::now();
                    // Reconciled by the connection's own task ([`settle`]): it may send
                    // commands, which this loop has to carry.
                    status.send_replace(state);
                }
                Some(Ok(AgentMsg::Certificate(report))) => {
                    last_heard = tokio::time::Instant::now();
                    if let Err(e) = base.record_certificate(instance_id, &report).await {
                        tracing::warn!(domain = %report.domain, error = %e, "certificate report refused");
                    }
                }
                Some(Ok(AgentMsg::Metrics(frame))) => {
                    last_heard = tokio::time::Instant::now();
                    if let Err(e) = base.record_metrics(instance_id, &frame).await {
                        tracing::warn!(error = %e, "metrics frame not stored");
                    }
                }
                Some(Ok(other)) => {
                    last_heard = tokio::time::Instant::now();
                    tracing::debug!(?other, "ignored agent message");
                }
            }
        }
    }
}

/// Reconciles the connection's agent after its Hello and after each Status report, one at a
/// time ([`coalesce`]). A retired instance is let go after the first.
async fn settle(
    base: Base,
    instance_id: String,
    reports: watch::Receiver<AgentState>,
    retired: bool,
) {
    coalesce(reports, |state| {
        let (base, instance_id) = (base.clone(), instance_id.clone());
        async move {
            base.agent_connected(&instance_id, &state).await;
            if retired {
                base.registry().disconnect(&instance_id);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    })
    .await;
}

/// How a tunnel that closed under us ended: the agent leaving is normal, anything else is the
/// reason to log.
fn ended(reason: MuxError) -> Result<(), ConnError> {
    match reason {
        MuxError::TransportEnded | MuxError::Closed => Ok(()),
        other => Err(ConnError::Tunnel(other)),
    }
}
