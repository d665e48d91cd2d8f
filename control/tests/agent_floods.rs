//! Audit L2, on SQLite and PostgreSQL: a compromised agent's report naming thousands of
//! in-progress deployments Base never gave it costs Base a bounded number of look-ups and
//! cancel commands, sent one after the other, not one waiting task per made-up deployment.

mod common;

use std::time::Duration;

use common::{TestDb, owner_with_service};
use control::{Base, BaseConfig};
use proto::deploy::DeployState;
use proto::wire::mux::Mux;
use proto::wire::{AgentState, Command, DeployProgress, Outcome, Side};

/// A connection to nowhere: the registry only keeps it; commands reach the test's session.
fn silent_mux() -> Mux {
    let silent = futures_util::stream::pending::<Result<Vec<u8>, std::convert::Infallible>>();
    Mux::new(futures_util::sink::drain(), silent, Side::Base).0
}

fn made_up(n: usize) -> Vec<DeployProgress> {
    (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "deployment_id": format!("dep_madeup{i:05}"),
                "state": DeployState::Building,
            }))
            .unwrap()
        })
        .collect()
}

async fn l2_made_up_deployments_cost_bounded_cancels_one_at_a_time(db: &TestDb) {
    let base = Base::new(
        db.store.clone(),
        BaseConfig::new("http://127.0.0.1:8080".parse().unwrap()),
    );
    let (actor, svc) = owner_with_service(&base).await;
    let instance = base.get_service(&actor, &svc).await.unwrap().instance_id;
    let mut session = base.registry().register(&instance, silent_mux());
    let state = AgentState {
        services: Vec::new(),
        deployments: made_up(10_000),
        certificates: Vec::new(),
    };
    base.agent_connected(&instance, &state).await;

    let mut cancelled = Vec::new();
    while let Ok(Some(pending)) =
        tokio::time::timeout(Duration::from_secs(2), session.commands.recv()).await
    {
        let Command::CancelDeploy { deployment_id } = &pending.command else {
            panic!("only cancels expected, got {:?}", pending.command);
        };
        cancelled.push(deployment_id.to_string());
        if cancelled.len() <= 3 {
            // The next cancel waits for this one's answer.
            let next = tokio::time::timeout(Duration::from_millis(200), session.commands.recv());
            assert!(next.await.is_err(), "a second cancel went out unanswered");
        }
        let _ = pending.reply.send(Outcome::Ok);
    }
    assert_eq!(cancelled.len(), 256, "cancels for a report of 10,000");
    assert_eq!(
        cancelled.first().map(String::as_str),
        Some("dep_madeup00000")
    );
}
on_both_backends!(
    made_up_deployments,
    l2_made_up_deployments_cost_bounded_cancels_one_at_a_time
);
