//! Base replicas on one PostgreSQL in one test process: each a real `Base` with its own replica
//! id, fanning changes out to the others through NOTIFY.

use std::time::Duration;

use control::clock::Clock;
use control::{Base, BaseConfig};

use super::TestDb;

/// Replica `id` on the test's database, on `clock`, with a 15 s lease.
pub fn replica(db: &TestDb, id: &str, clock: &Clock) -> Base {
    let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    cfg.replica.id = id.into();
    cfg.replica.lease = Duration::from_secs(15);
    // Orders not accepted after twice this are delivered again by the holder's sweeper.
    cfg.limits.command_timeout = Duration::from_secs(1);
    Base::new(db.store.clone(), cfg).with_clock(clock.clone())
}

/// Waits until `check` holds, failing the test after 15 s.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Both replicas fanning changes out (and taking forwarded commands) until the sender drops.
pub fn fan_out(replicas: &[&Base]) -> tokio::sync::watch::Sender<bool> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for r in replicas {
        let (r, mut stopped) = ((*r).clone(), stopped.clone());
        tokio::spawn(async move {
            r.run_fanout(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
        });
    }
    stop
}

/// Replicas a and b joined and fanning out, both listening (a notification sent before a
/// replica listens is not kept for it), until the returned sender drops.
pub async fn two_listening(db: &TestDb) -> (Base, Base, tokio::sync::watch::Sender<bool>) {
    let clock = Clock::system();
    let (a, b) = (replica(db, "a", &clock), replica(db, "b", &clock));
    a.join_replicas().await.unwrap();
    b.join_replicas().await.unwrap();
    let stop = fan_out(&[&a, &b]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    (a, b, stop)
}
