//! Streams across replicas: a console or file transfer asked of a replica that does not hold
//! the instance's agent is relayed to the replica that does. Each replica may serve a peer
//! link (`DPLOYR_PEER_LISTEN`, advertised in `replicas.peer_addr`): mutual TLS where both ends
//! present the gateway identity all replicas share and accept nothing else, so only a replica
//! (holding that key) can ask another to open streams to its agents. Over it runs the same
//! multiplexer as the agent link, one connection per pair of replicas, each stream starting
//! with a header naming the instance; the holder opens the stream to its agent and joins the
//! two ([`super::relay`]), credit window against credit window. Authorization happened on the
//! replica the browser reached; the holder only relays.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proto::wire::{self, MuxStream, Side, StreamOpen, handshake};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::relay::{self, Header};
use crate::Base;
use crate::gateway::registry::OpenError;
use crate::store::replicas as sql;

/// How long dialing a peer (TCP, TLS and WebSocket) may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a peer may take to finish its handshake or send a stream's header.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// This replica's peer links: its TLS settings, and the connection to each other replica.
#[derive(Debug, Default)]
pub struct Peers {
    tls: OnceLock<PeerTls>,
    links: Mutex<HashMap<String, Link>>,
    generations: AtomicU64,
}

impl Peers {
    fn link(&self, replica: &str) -> Option<wire::Mux> {
        let links = self.links.lock().expect("peer links lock");
        links.get(replica).map(|l| l.mux.clone())
    }
}

#[derive(Debug)]
struct PeerTls {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    pin: String,
}

/// One link to a replica; `generation` tells a replaced link from the current one.
struct Link {
    generation: u64,
    mux: wire::Mux,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl Base {
    /// Lets this replica dial and serve peer links with the gateway identity.
    pub fn enable_peers(
        &self,
        identity: &crate::gateway::tls::Identity,
    ) -> Result<(), rustls::Error> {
        let tls = PeerTls {
            server: crate::gateway::tls::server_config(identity)?,
            client: identity.peer_client_config()?,
            pin: identity.pin(),
        };
        let _ = self.peers.tls.set(tls);
        Ok(())
    }

    /// Opens a stream for `purpose` to the instance's agent: on this replica's connection, or
    /// relayed through the live replica that holds it.
    pub async fn open_stream(
        &self,
        instance_id: &str,
        purpose: &StreamOpen,
    ) -> Result<MuxStream, OpenError> {
        if self.registry.is_online(instance_id) || !self.several_replicas_possible() {
            return self.registry.open_stream(instance_id, purpose);
        }
        let now = self.clock.now_ms();
        let holder = sql::holder(self.store.pool(), instance_id, now)
            .await
            .map_err(|e| OpenError::Peer(format!("finding the replica that holds it: {e}")))?;
        let Some((replica, addr)) = holder.filter(|(r, _)| r != self.replica_id()) else {
            // Connected here since the check, or nowhere.
            return self.registry.open_stream(instance_id, purpose);
        };
        let addr = addr.ok_or_else(|| {
            OpenError::Peer(format!(
                "its agent is connected to Base replica {replica}, which takes no relayed \
                 streams (set DPLOYR_PEER_LISTEN there)"
            ))
        })?;
        let link = self.link_to(&replica, &addr).await?;
        let mut stream = link.open(purpose)?;
        let header = Header {
            instance: instance_id.to_string(),
        };
        stream.send(&header.line()).await?;
        Ok(stream)
    }

    /// The link to `replica`, dialed now unless one is up.
    async fn link_to(&self, replica: &str, addr: &str) -> Result<wire::Mux, OpenError> {
        let tls = self.peers.tls.get().ok_or_else(|| {
            OpenError::Peer("this replica has no peer identity to relay with".into())
        })?;
        if let Some(link) = self.peers.link(replica) {
            return Ok(link);
        }
        // Dialed outside the lock, so a slow or dead replica delays no stream to another.
        let (mux, control, incoming) = tokio::time::timeout(DIAL_TIMEOUT, dial(addr, tls))
            .await
            .map_err(|_| OpenError::Peer(format!("Base replica {replica} at {addr}: timed out")))?
            .map_err(|e| OpenError::Peer(format!("Base replica {replica} at {addr}: {e}")))?;
        let generation = self.peers.generations.fetch_add(1, Ordering::Relaxed) + 1;
        {
            let mut links = self.peers.links.lock().expect("peer links lock");
            if let Some(link) = links.get(replica) {
                // Another stream dialed it meanwhile: keep that link, close this one.
                mux.close();
                return Ok(link.mux.clone());
            }
            links.insert(
                replica.to_string(),
                Link {
                    generation,
                    mux: mux.clone(),
                },
            );
        }
        // Forgotten once it closes, so the next stream dials again.
        let (base, replica, watched) = (self.clone(), replica.to_string(), mux.clone());
        tokio::spawn(async move {
            let why = watched.closed().await;
            tracing::info!(%replica, reason = %why, "peer link closed");
            drop((control, incoming));
            let mut links = base.peers.links.lock().expect("peer links lock");
            if links
                .get(&replica)
                .is_some_and(|l| l.generation == generation)
            {
                links.remove(&replica);
            }
        });
        Ok(mux)
    }

    /// Serves the peer link on `listener` until `shutdown`.
    pub async fn serve_peers(
        &self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let Some(tls) = self.peers.tls.get() else {
            tracing::warn!("no peer identity: the peer link is not served");
            return;
        };
        let acceptor = TlsAcceptor::from(tls.server.clone());
        let pin = tls.pin.clone();
        tokio::pin!(shutdown);
        let mut open = tokio::task::JoinSet::new();
        loop {
            while open.try_join_next().is_some() {}
            let (tcp, from) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "peer link accept failed");
                        continue;
                    }
                },
            };
            let (base, acceptor, pin) = (self.clone(), acceptor.clone(), pin.clone());
            open.spawn(async move {
                if let Err(e) = base.peer_connection(acceptor, tcp, &pin).await {
                    tracing::warn!(%from, reason = %e, "peer link refused or ended");
                }
            });
        }
        open.abort_all();
        while open.join_next().await.is_some() {}
    }

    /// One replica's link: relays every stream it opens until it closes.
    async fn peer_connection(
        &self,
        acceptor: TlsAcceptor,
        tcp: TcpStream,
        pin: &str,
    ) -> Result<(), String> {
        let ws = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
            let tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
            let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
            if cert.map(|c| proto::tls::fingerprint(c)).as_deref() != Some(pin) {
                return Err("the client is not a Base replica (wrong certificate)".to_string());
            }
            let config = Some(handshake::ws_config());
            tokio_tungstenite::accept_async_with_config(tls, config)
                .await
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| "handshake timed out".to_string())??;
        let (_mux, _control, mut incoming) = wire::mux::over_websocket(ws, Side::Agent);
        while let Some(stream) = incoming.accept().await {
            let base = self.clone();
            tokio::spawn(async move { base.relay_to_agent(stream).await });
        }
        Ok(())
    }

    /// The holder's side of one relayed stream.
    async fn relay_to_agent(&self, mut stream: MuxStream) {
        let (header, first) =
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, relay::read_header(&mut stream)).await {
                Ok(Ok(read)) => read,
                Ok(Err(e)) => return stream.reset(&format!("bad relay header: {e}")),
                Err(_) => return stream.reset("no relay header in time"),
            };
        let purpose = stream.purpose().clone();
        match self.registry.open_stream(&header.instance, &purpose) {
            Ok(agent) => relay::join(stream, agent, first).await,
            Err(e) => stream.reset(&e.to_string()),
        }
    }
}

async fn dial(
    addr: &str,
    tls: &PeerTls,
) -> Result<(wire::Mux, wire::ControlReceiver, wire::Incoming), String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).ok();
    // The pin, not the name, authenticates the peer.
    let name = ServerName::try_from("dployr-gateway").expect("constant server name is valid");
    let stream = TlsConnector::from(tls.client.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let url = format!("wss://{addr}/peer");
    let config = Some(handshake::ws_config());
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, config)
        .await
        .map_err(|e| e.to_string())?;
    Ok(wire::mux::over_websocket(ws, Side::Base))
}
