//! How Base's background jobs run (the deployment sweeper, the domain checks, the metrics
//! rollup): one pass every interval until shutdown; a failed pass is logged and the next one
//! tried, and a pass that overruns delays the next instead of bunching them up.

use std::future::Future;
use std::time::Duration;

use crate::DomainError;

/// Runs `pass` every `every` until `shutdown` resolves; `what` names a failed pass in the log.
pub async fn every<F, Fut>(
    every: Duration,
    shutdown: impl Future<Output = ()>,
    what: &str,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), DomainError>>,
{
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tick.tick() => {
                if let Err(e) = pass().await {
                    tracing::warn!(error = %e, "{what}");
                }
            }
        }
    }
}
