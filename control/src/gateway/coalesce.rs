//! One reconcile at a time per agent connection (audit L2): the agent's first state and each
//! newer `Status` report are reconciled in turn, and reports that arrive while one runs wait as
//! one, the latest. An agent flooding reports costs one reconcile in flight and one pending,
//! never a task per report.

use std::future::Future;
use std::ops::ControlFlow;

use tokio::sync::watch;

/// Calls `reconcile` with the current state, then with the latest one each time it changed,
/// until the sender is gone or `reconcile` breaks.
pub(super) async fn coalesce<S, F, Fut>(mut reports: watch::Receiver<S>, mut reconcile: F)
where
    S: Clone,
    F: FnMut(S) -> Fut,
    Fut: Future<Output = ControlFlow<()>>,
{
    loop {
        let state = reports.borrow_and_update().clone();
        if reconcile(state).await.is_break() {
            return;
        }
        if reports.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::sync::Semaphore;

    use super::*;

    #[tokio::test]
    async fn l2_a_flood_of_status_reports_costs_one_reconcile_in_flight_and_one_pending() {
        let (reports, rx) = watch::channel(0u32);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(Semaphore::new(0));
        let task = tokio::spawn({
            let (seen, gate) = (seen.clone(), gate.clone());
            coalesce(rx, move |state| {
                seen.lock().unwrap().push(state);
                let gate = gate.clone();
                async move {
                    gate.acquire().await.unwrap().forget();
                    ControlFlow::Continue(())
                }
            })
        });
        while seen.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        for report in 1..=10_000 {
            reports.send_replace(report);
        }
        gate.add_permits(10_001);
        drop(reports);
        task.await.unwrap();
        assert_eq!(*seen.lock().unwrap(), [0, 10_000]);
    }

    #[tokio::test]
    async fn a_break_ends_it_at_once() {
        let (reports, rx) = watch::channel(1u32);
        let calls = Arc::new(Mutex::new(0));
        let counted = calls.clone();
        coalesce(rx, move |_| {
            *counted.lock().unwrap() += 1;
            async { ControlFlow::Break(()) }
        })
        .await;
        reports.send_replace(2);
        assert_eq!(*calls.lock().unwrap(), 1);
    }
}
