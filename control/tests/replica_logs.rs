//! A log follow on one Base replica while another stores the service's lines (issue 20): every
//! line reaches the follower, in order, once, even a burst larger than one relay read, which is
//! read oldest first, page after page (a read of the newest lines only would skip the oldest).

mod common;

use std::time::Duration;

use common::replicas::two_listening;
use common::{Kind, TestDb, owner_with_service};
use control::logs::MAX_READ;
use proto::wire::{LogRecord, LogStream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_stored_on_one_replica_reaches_a_follower_on_another_whole() {
    let db = TestDb::new(Kind::Postgres).await;
    let (a, b, _stop) = two_listening(&db).await;
    let (ana, svc) = owner_with_service(&a).await;
    let mut follow = a.follow_logs(&ana, &svc, None, 0, 100).await.unwrap();
    assert!(follow.backlog.is_empty());

    // One batch, so one announcement, of more lines than one relay read returns.
    let burst = MAX_READ as usize + 2_500;
    let records = (1..=burst)
        .map(|n| LogRecord {
            service_id: svc.clone().into(),
            deployment_id: None,
            at_ms: 1_700_000_000_000,
            stream: LogStream::Stdout,
            line: format!("line {n}"),
        })
        .collect();
    b.store_logs(records).await.unwrap();

    let mut got = Vec::with_capacity(burst);
    while got.len() < burst {
        let next = tokio::time::timeout(Duration::from_secs(15), follow.live.recv()).await;
        let line = next
            .unwrap_or_else(|_| panic!("only {} of {burst} lines within 15 s", got.len()))
            .expect("the follower keeps up with a burst this size");
        got.push(line);
    }
    assert_eq!(
        got[0].line, "line 1",
        "the oldest line of the burst came first"
    );
    assert_eq!(got[burst - 1].line, format!("line {burst}"));
    assert!(
        got.windows(2).all(|w| w[0].seq < w[1].seq),
        "in order, once"
    );
    db.finish().await;
}
