//! Service logs in the store, on SQLite and PostgreSQL: lines stored in chunks come back in
//! order, filtered by deployment and `since`, the newest `limit` of them (or, for the relay
//! between replicas, the oldest, page after page), and the bound per
//! service drops whole old chunks while counting every line that went.

mod common;

use common::{TestDb, owner_with_service};
use control::logs::KEPT_PER_SERVICE;
use control::store::logs::oldest_after;
use proto::wire::{LogRecord, LogStream};

fn record(service: &str, deployment: &str, line: String) -> LogRecord {
    LogRecord {
        service_id: service.into(),
        deployment_id: Some(deployment.into()),
        at_ms: 1_700_000_000_000,
        stream: LogStream::Stdout,
        line,
    }
}

async fn lines_come_back_in_order_filtered_and_bounded(db: &TestDb) {
    let base = db.base(false);
    let (actor, svc) = owner_with_service(&base).await;
    // Two deployments interleaved, in batches of different sizes (one line, many, a chunk's
    // worth), with text that JSON must escape.
    let mut n = 0;
    for batch in [1usize, 7, 5_000, 3] {
        let records = (0..batch)
            .map(|_| {
                n += 1;
                let dep = if n % 2 == 0 { "d-even" } else { "d-odd" };
                record(&svc, dep, format!("line {n} \"quoted\" \\ tab\t nul\0 ünï"))
            })
            .collect();
        base.store_logs(records).await.unwrap();
    }
    let (all, dropped) = base.read_logs(&actor, &svc, None, 0, 10_000).await.unwrap();
    assert_eq!(dropped, 0);
    assert_eq!(all.len(), n);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "in order");
    assert_eq!(all[0].line, "line 1 \"quoted\" \\ tab\t nul\0 ünï");
    assert_eq!(
        all[n - 1].line,
        format!("line {n} \"quoted\" \\ tab\t nul\0 ünï")
    );

    // The newest `limit`, after `since`, of one deployment.
    let (newest, _) = base.read_logs(&actor, &svc, None, 0, 10).await.unwrap();
    assert_eq!(newest, all[n - 10..].to_vec());
    let since = all[99].seq;
    let (after, _) = base
        .read_logs(&actor, &svc, None, since, 10_000)
        .await
        .unwrap();
    assert_eq!(after, all[100..].to_vec());
    let (even, _) = base
        .read_logs(&actor, &svc, Some("d-even"), 0, 10_000)
        .await
        .unwrap();
    assert_eq!(even.len(), n / 2);
    assert!(
        even.iter()
            .all(|l| l.deployment_id.as_deref() == Some("d-even"))
    );
    let (none, _) = base
        .read_logs(&actor, &svc, None, all[n - 1].seq, 10)
        .await
        .unwrap();
    assert!(none.is_empty());

    // Oldest first, for a relay that must not skip: the oldest `limit` after `since`, then
    // the next page from the last one read, to the end.
    let seqs = |rows: &[control::store::logs::LogRow]| -> Vec<i64> {
        rows.iter().map(|r| r.seq).collect()
    };
    let pool = db.store.pool();
    let first = oldest_after(pool, &svc, 0, 10).await.unwrap();
    let want: Vec<i64> = all[..10].iter().map(|l| l.seq).collect();
    assert_eq!(seqs(&first), want);
    assert_eq!(first[0].line, all[0].line);
    let mut paged = Vec::new();
    let mut since = all[99].seq;
    loop {
        let page = oldest_after(pool, &svc, since, 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        since = last.seq;
        paged.extend(page);
    }
    let want: Vec<i64> = all[100..].iter().map(|l| l.seq).collect();
    assert_eq!(
        seqs(&paged),
        want,
        "every line after `since`, once, in order"
    );

    // Past the bound, whole old chunks go and every line that went is counted.
    let before = n as i64;
    let total = KEPT_PER_SERVICE as usize + 9_000;
    while n < total {
        let records = (0..1_000.min(total - n))
            .map(|_| {
                n += 1;
                record(&svc, "d-late", format!("late {n}"))
            })
            .collect();
        base.store_logs(records).await.unwrap();
    }
    let (_, dropped) = base.read_logs(&actor, &svc, None, 0, 1).await.unwrap();
    assert!(dropped > 0, "old lines were dropped");
    let kept: i64 = sqlx::query_scalar("SELECT CAST(SUM(lines) AS BIGINT) FROM log_chunks")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(kept + dropped, total as i64, "kept and dropped add up");
    assert!(
        kept >= KEPT_PER_SERVICE,
        "at least the bound is kept: {kept}"
    );
    assert!(kept < KEPT_PER_SERVICE + 5_000, "not much more: {kept}");
    assert!(dropped >= before, "the first lines were among the dropped");
    let (last, _) = base.read_logs(&actor, &svc, None, 0, 1).await.unwrap();
    assert_eq!(last[0].line, format!("late {total}"));
}
on_both_backends!(
    lines_in_chunks,
    lines_come_back_in_order_filtered_and_bounded
);
