//! The peer link between replicas (issue 20), with real TLS on loopback: a stream opened on
//! replica A to an agent replica B holds is relayed through B's peer listener and carries
//! bytes both ways, a megabyte included (the credit windows hold end to end: the agent side
//! reads slowly and nothing is lost or reordered); the agent's reset reaches A with its
//! reason; a client presenting another certificate than the shared gateway identity is
//! refused.

mod common;

use std::time::Duration;

use common::{Kind, TestDb, owner_with_service};
use control::clock::Clock;
use control::gateway::tls::Identity;
use control::{Base, BaseConfig};
use proto::wire::{Mux, MuxStream, Side, StreamOpen};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn replica(db: &TestDb, id: &str, peer_addr: Option<String>) -> Base {
    let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    cfg.replica.id = id.into();
    cfg.replica.peer_addr = peer_addr;
    Base::new(db.store.clone(), cfg).with_clock(Clock::system())
}

/// Two multiplexers joined in memory: Base's end, the agent's, and the streams Base opens.
fn connected_pair() -> (Mux, Mux, proto::wire::Incoming) {
    let (to_agent, from_base) = mpsc::unbounded_channel::<Vec<u8>>();
    let (to_base, from_agent) = mpsc::unbounded_channel::<Vec<u8>>();
    let sink = |tx: mpsc::UnboundedSender<Vec<u8>>| {
        futures_util::sink::unfold(tx, |tx, frame: Vec<u8>| async move {
            tx.send(frame)
                .map_err(|_| std::io::Error::other("closed"))?;
            Ok::<_, std::io::Error>(tx)
        })
    };
    let stream = |rx: mpsc::UnboundedReceiver<Vec<u8>>| {
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|frame| (Ok::<_, std::io::Error>(frame), rx))
        })
    };
    let (base, _, _) = Mux::new(Box::pin(sink(to_agent)), stream(from_agent), Side::Base);
    let (agent, _control, incoming) =
        Mux::new(Box::pin(sink(to_base)), stream(from_base), Side::Agent);
    (base, agent, incoming)
}

/// The agent: echoes every stream slowly (a pause per chunk), resets when asked to.
async fn slow_echo_agent(mut incoming: proto::wire::Incoming) {
    while let Some(mut s) = incoming.accept().await {
        tokio::spawn(async move {
            while let Ok(Some(chunk)) = s.recv().await {
                if chunk == b"reset please" {
                    return s.reset("the agent says no");
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
                if s.send(&chunk).await.is_err() {
                    return;
                }
            }
            let _ = s.close();
        });
    }
}

async fn read_all(stream: &mut MuxStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < want {
        match stream.recv().await.unwrap() {
            Some(chunk) => got.extend_from_slice(&chunk),
            None => break,
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_opened_on_one_replica_is_relayed_to_the_agent_another_holds() {
    let db = TestDb::new(Kind::Postgres).await;
    let keys = tempfile::tempdir().unwrap();
    let identity = Identity::load_or_create(keys.path()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer_addr = listener.local_addr().unwrap().to_string();
    let a = replica(&db, "a", None);
    let b = replica(&db, "b", Some(peer_addr.clone()));
    for r in [&a, &b] {
        r.enable_peers(&identity).unwrap();
        r.join_replicas().await.unwrap();
    }
    let serving = b.clone();
    tokio::spawn(async move { serving.serve_peers(listener, std::future::pending()).await });
    let (ana, svc) = owner_with_service(&a).await;
    let service = a.get_service(&ana, &svc).await.unwrap();
    let (instance, cluster) = (service.instance_id, service.cluster_id);

    let (mux, _agent, incoming) = connected_pair();
    tokio::spawn(slow_echo_agent(incoming));
    let _reg = b.registry().register(&instance, &cluster, mux);
    b.claim_connection(&instance, &cluster).await.unwrap();
    a.refresh_held_elsewhere().await.unwrap();
    assert!(a.instance_online(&instance));
    assert!(!a.registry().is_online(&instance), "a does not hold it");

    let mut small = a.open_stream(&instance, &StreamOpen::Echo).await.unwrap();
    small.send(b"hello through b").await.unwrap();
    assert_eq!(read_all(&mut small, 15).await, b"hello through b");

    // A megabyte, written while it is read back: more than any window, so the bytes move
    // only as the slow agent frees credit.
    let big: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    let stream = a.open_stream(&instance, &StreamOpen::Echo).await.unwrap();
    let (mut w, mut r) = stream.split();
    let sent = big.clone();
    let writer = tokio::spawn(async move {
        for chunk in sent.chunks(10_000) {
            w.send(chunk).await.unwrap();
        }
        w.close().unwrap();
    });
    let mut echoed = Vec::new();
    while let Some(chunk) = r.recv().await.unwrap() {
        echoed.extend_from_slice(&chunk);
    }
    writer.await.unwrap();
    assert_eq!(echoed.len(), big.len());
    assert!(echoed == big, "the echo came back in order and whole");

    // The agent's reset reaches a with its reason.
    let mut refused = a.open_stream(&instance, &StreamOpen::Echo).await.unwrap();
    refused.send(b"reset please").await.unwrap();
    let err = refused.recv().await.unwrap_err().to_string();
    assert!(err.contains("the agent says no"), "{err}");

    // Someone without the gateway key cannot use b's peer link.
    let other = tempfile::tempdir().unwrap();
    let stranger =
        proto::tls::Identity::load_or_create(other.path(), "gateway", || vec!["localhost".into()])
            .unwrap();
    let client = proto::tls::client_config(&identity.pin(), Some(&stranger)).unwrap();
    let tcp = tokio::net::TcpStream::connect(&peer_addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("dployr-gateway").unwrap();
    let handshake = async {
        let tls = tokio_rustls::TlsConnector::from(client)
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        tokio_tungstenite::client_async(format!("wss://{peer_addr}/peer"), tls)
            .await
            .map_err(|e| e.to_string())
    };
    let handshake = tokio::time::timeout(Duration::from_secs(10), handshake)
        .await
        .expect("refused at once");
    assert!(handshake.is_err(), "a stranger got a peer link");
    db.finish().await;
}
