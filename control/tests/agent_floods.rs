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
    let cluster = base.get_service(&actor, &svc).await.unwrap().cluster_id;
    let mut session = base.registry().register(&instance, &cluster, silent_mux());
    let state = AgentState {
        deployments: made_up(10_000),
        ..AgentState::default()
    };
    // The session answers while Base settles the report (which also sends the services'
    // domains and waits for that answer).
    let connected = tokio::spawn({
        let (base, instance) = (base.clone(), instance.clone());
        async move { base.agent_connected(&instance, &state).await }
    });

    let mut cancelled = Vec::new();
    while let Ok(Some(pending)) =
        tokio::time::timeout(Duration::from_secs(2), session.commands.recv()).await
    {
        let Command::CancelDeploy { deployment_id } = &pending.command else {
            // What else Base sends a connecting agent (its services' domains).
            let _ = pending.reply.send(Outcome::Ok);
            continue;
        };
        cancelled.push(deployment_id.to_string());
        if cancelled.len() <= 3 {
            // The next cancel waits for this one's answer.
            let quiet = tokio::time::Instant::now() + Duration::from_millis(200);
            while let Ok(Some(other)) =
                tokio::time::timeout_at(quiet, session.commands.recv()).await
            {
                assert!(
                    !matches!(other.command, Command::CancelDeploy { .. }),
                    "a second cancel went out unanswered"
                );
                let _ = other.reply.send(Outcome::Ok);
            }
        }
        let _ = pending.reply.send(Outcome::Ok);
    }
    connected.await.unwrap();
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
