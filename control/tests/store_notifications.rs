//! The notification outbox in the store, on SQLite and PostgreSQL, through the injectable
//! clock: queued rows reach only subscribed channels and vanish with a rolled-back
//! transaction; the worker records every attempt and backs off exponentially until the last
//! attempt fails the notification; a receiver that answers 2xx gets it delivered. The offline
//! watch opens one incident for an instance away past its grace period, however often it runs.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestDb, person};
use control::clock::Clock;
use control::notify::Alert;
use control::store::{notifications, outbox};
use control::{Base, BaseConfig};
use proto::api::{AlertKind, ChannelKind, CreateChannelRequest, Thresholds};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const START_MS: i64 = 1_700_000_000_000;

fn base(db: &TestDb, clock: &Clock) -> Base {
    let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    cfg.notify.attempts = 3;
    cfg.notify.retry_base = Duration::from_secs(10);
    cfg.notify.offline_grace = Duration::from_secs(30);
    Base::new(db.store.clone(), cfg).with_clock(clock.clone())
}

/// An HTTP receiver on loopback answering every request with `status`; its URL and a count of
/// the requests it read.
async fn receiver(status: u16) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then as many body bytes as Content-Length says.
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                seen.fetch_add(1, Ordering::SeqCst);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, count)
}

fn webhook(url: &str, events: &[AlertKind]) -> CreateChannelRequest {
    CreateChannelRequest {
        name: "ops".into(),
        kind: ChannelKind::Webhook,
        url: Some(url.into()),
        emails: Vec::new(),
        events: events.to_vec(),
        thresholds: Thresholds::default(),
    }
}

fn alert(cluster: &str) -> Alert {
    Alert::new(
        AlertKind::DeployFailed,
        cluster,
        "dep_1",
        "A deployment of api ended failed".into(),
        serde_json::json!({}),
    )
}

async fn outbox_retries_with_backoff_then_fails(db: &TestDb) {
    let clock = Clock::manual(START_MS);
    let base = base(db, &clock);
    let (actor, _, cluster) = person(&base, "ana@example.com").await;
    let (ok_url, ok_hits) = receiver(204).await;
    let (bad_url, bad_hits) = receiver(503).await;
    let good = base
        .create_channel(
            &actor,
            &cluster,
            webhook(&ok_url, &[AlertKind::DeployFailed]),
        )
        .await
        .unwrap();
    let bad = base
        .create_channel(
            &actor,
            &cluster,
            webhook(&bad_url, &[AlertKind::DeployFailed]),
        )
        .await
        .unwrap();
    let other = base
        .create_channel(
            &actor,
            &cluster,
            webhook(&ok_url, &[AlertKind::InstanceOffline]),
        )
        .await
        .unwrap();
    let pool = db.store.pool();
    let payload = serde_json::to_string(&alert(&cluster)).unwrap();

    // A rolled-back transaction leaves nothing queued.
    let mut tx = db.store.begin().await.unwrap();
    let n = outbox::fan_out(
        &mut *tx,
        "ntf_a_",
        &cluster,
        "deploy.failed",
        &payload,
        START_MS,
    )
    .await
    .unwrap();
    assert_eq!(n, 2, "the two subscribed channels");
    tx.rollback().await.unwrap();
    assert!(outbox::due(pool, i64::MAX, 10).await.unwrap().is_empty());

    let mut tx = db.store.begin().await.unwrap();
    outbox::fan_out(
        &mut *tx,
        "ntf_b_",
        &cluster,
        "deploy.failed",
        &payload,
        START_MS,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(
        outbox::of_channel(pool, &other.channel.id, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // First pass: both tried once; the good one is delivered.
    assert_eq!(base.deliver_due().await.unwrap(), 2);
    assert_eq!(ok_hits.load(Ordering::SeqCst), 1);
    assert_eq!(bad_hits.load(Ordering::SeqCst), 1);
    let delivered = outbox::of_channel(pool, &good.channel.id, 10)
        .await
        .unwrap();
    assert_eq!(
        (delivered[0].state.as_str(), delivered[0].attempts),
        ("delivered", 1)
    );
    let pending = &outbox::of_channel(pool, &bad.channel.id, 10).await.unwrap()[0];
    assert_eq!((pending.state.as_str(), pending.attempts), ("pending", 1));
    let waiting = || control::store::scrape::pending_notifications(pool, &cluster);
    assert_eq!(
        waiting().await.unwrap(),
        1,
        "the queue depth Prometheus sees"
    );
    assert_eq!(pending.next_attempt_at, START_MS + 10_000);

    // Not before its time; then 10 s, 20 s: the third attempt is the last.
    clock.advance(Duration::from_secs(9));
    assert_eq!(base.deliver_due().await.unwrap(), 0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(base.deliver_due().await.unwrap(), 1);
    let row = outbox::by_id(pool, &pending.id).await.unwrap().unwrap();
    assert_eq!(row.next_attempt_at, START_MS + 10_000 + 20_000);
    clock.advance(Duration::from_secs(20));
    assert_eq!(base.deliver_due().await.unwrap(), 1);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(base.deliver_due().await.unwrap(), 0, "no fourth attempt");
    let row = outbox::by_id(pool, &pending.id).await.unwrap().unwrap();
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 3));
    assert_eq!(waiting().await.unwrap(), 0, "a failed one waits no more");
    let attempts = outbox::attempts_of(pool, &pending.id).await.unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts
            .iter()
            .all(|a| a.ok == 0 && a.http_status == Some(503))
    );
    assert_eq!(bad_hits.load(Ordering::SeqCst), 3);

    // The API shows each attempt, newest delivery first.
    let shown = base
        .channel_deliveries(&actor, &cluster, &bad.channel.id)
        .await
        .unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].state, "failed");
    assert_eq!(shown[0].attempts.len(), 3);
    assert_eq!(shown[0].attempts[0].http_status, Some(503));

    // Removing a channel takes its notifications and attempts with it.
    base.delete_channel(&actor, &cluster, &bad.channel.id)
        .await
        .unwrap();
    assert!(outbox::by_id(pool, &pending.id).await.unwrap().is_none());
    assert!(
        outbox::attempts_of(pool, &pending.id)
            .await
            .unwrap()
            .is_empty()
    );
}
on_both_backends!(outbox_retries, outbox_retries_with_backoff_then_fails);

async fn an_instance_away_past_its_grace_alerts_once(db: &TestDb) {
    let clock = Clock::manual(START_MS);
    let base = base(db, &clock);
    let (actor, _, cluster) = person(&base, "ana@example.com").await;
    let (url, _) = receiver(204).await;
    let ch = base
        .create_channel(
            &actor,
            &cluster,
            webhook(&url, &[AlertKind::InstanceOffline]),
        )
        .await
        .unwrap();
    let made = base
        .create_instance(&actor, &cluster, "web-1")
        .await
        .unwrap();
    // Enrolled (as `dployrd join` leaves it) but never connected to this Base.
    sqlx::query("UPDATE instances SET cert_fingerprint = 'ab' WHERE id = $1")
        .bind(&made.instance.id)
        .execute(db.store.pool())
        .await
        .unwrap();
    let queued = || async {
        outbox::of_channel(db.store.pool(), &ch.channel.id, 10)
            .await
            .unwrap()
    };
    base.watch_incidents().await.unwrap();
    clock.advance(Duration::from_secs(29));
    base.watch_incidents().await.unwrap();
    assert!(queued().await.is_empty(), "still within the grace period");
    clock.advance(Duration::from_secs(1));
    for _ in 0..3 {
        base.watch_incidents().await.unwrap();
    }
    let rows = queued().await;
    assert_eq!(rows.len(), 1, "one alert per incident");
    assert_eq!(rows[0].alert, "instance.offline");
    let open = notifications::open_incidents(db.store.pool(), "instance.offline")
        .await
        .unwrap();
    assert_eq!(open, std::slice::from_ref(&made.instance.id));
    let actions = common::actions(&base, &actor, &cluster).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "instance.offline").count(),
        1
    );
    // The incident opens once: a second open of the same one changes nothing.
    let again = notifications::open_incident(
        db.store.pool(),
        "instance.offline",
        &made.instance.id,
        &cluster,
        START_MS,
    )
    .await
    .unwrap();
    assert!(!again);
}
on_both_backends!(offline_once, an_instance_away_past_its_grace_alerts_once);
