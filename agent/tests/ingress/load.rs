//! The no-failed-request test of a route switch under load, for any client: the HTTP tests
//! run it over plain HTTP, the HTTPS tests over TLS (HTTP/2).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use http::StatusCode;

use crate::support::{Upstream, ok, wait_until};

/// Shared by the load test's workers and its conductor.
#[derive(Default)]
struct Traffic {
    done: AtomicUsize,
    switched: AtomicBool,
    workers_past_switch: AtomicUsize,
    stop: AtomicBool,
}

type Answer = Result<(StatusCode, String), String>;

/// One worker: requests back to back until told to stop. Each entry says whether the request
/// started after the route switch, and what came back.
async fn worker<F, A>(traffic: Arc<Traffic>, fetch: F) -> Vec<(bool, Answer)>
where
    F: Fn() -> A,
    A: Future<Output = Answer>,
{
    let mut log = Vec::new();
    let mut counted_past_switch = false;
    while !traffic.stop.load(SeqCst) {
        let after_switch = traffic.switched.load(SeqCst);
        log.push((after_switch, fetch().await));
        traffic.done.fetch_add(1, SeqCst);
        if after_switch && !counted_past_switch {
            counted_past_switch = true;
            traffic.workers_past_switch.fetch_add(1, SeqCst);
        }
    }
    log
}

/// Eight workers request `app.test` back to back through `fetch` while `route` switches it
/// from release v1 to v2 (as a deploy does) and v1 then stops: no request may fail, none begun
/// after the switch may reach v1, and each worker sees v1 then v2, never back.
pub async fn switch_under_load<F, A>(route: impl Fn(SocketAddr), fetch: F)
where
    F: Fn() -> A + Clone + Send + 'static,
    A: Future<Output = Answer> + Send + 'static,
{
    const WORKERS: usize = 8;
    const PHASE: usize = 700;
    let v1 = Upstream::start("v1").await;
    let v2 = Upstream::start("v2").await;
    route(v1.addr);
    let traffic = Arc::new(Traffic::default());
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| tokio::spawn(worker(traffic.clone(), fetch.clone())))
        .collect();

    wait_until("traffic flows to v1", || traffic.done.load(SeqCst) >= PHASE).await;
    route(v2.addr);
    traffic.switched.store(true, SeqCst);
    // Once every worker has finished a request begun after the switch, no request is left on
    // v1 (each worker has one at a time): v1 is drained and may stop.
    wait_until("every worker got past the switch", || {
        traffic.workers_past_switch.load(SeqCst) == WORKERS
    })
    .await;
    v1.stop().await;
    let target = (traffic.done.load(SeqCst) + PHASE).max(2_400);
    wait_until("traffic flows after v1 stopped", || {
        traffic.done.load(SeqCst) >= target
    })
    .await;
    traffic.stop.store(true, SeqCst);

    let (mut total, mut on_v1, mut on_v2, mut failures) = (0, 0, 0, Vec::new());
    for worker in workers {
        let mut seen_v2 = false;
        for (after_switch, outcome) in worker.await.unwrap() {
            total += 1;
            if outcome == ok("v1") {
                assert!(!after_switch, "a request begun after the switch reached v1");
                assert!(!seen_v2, "v1 answered after v2 had on the same worker");
                on_v1 += 1;
            } else if outcome == ok("v2") {
                seen_v2 = true;
                on_v2 += 1;
            } else {
                failures.push(outcome);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} requests failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    assert!(total >= 2_000, "only {total} requests");
    assert!(on_v1 >= PHASE && on_v2 >= PHASE, "v1 {on_v1}, v2 {on_v2}");
}
