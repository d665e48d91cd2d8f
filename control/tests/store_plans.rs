//! Build plans in the store, on SQLite and PostgreSQL: the plan dployrd sends with a deployment's
//! progress is kept on the deployment and comes back in the API's `Deployment`, through later
//! steps that carry none; a resent step may still bring it.

mod common;

use common::{TestDb, owner_with_service};
use control::idempotency::Queued;
use proto::api::CreateDeploymentRequest;
use proto::deploy::DeployState;
use proto::wire::DeployProgress;

fn progress(id: &str, state: DeployState, plan: &[&str]) -> DeployProgress {
    DeployProgress {
        deployment_id: id.into(),
        state,
        commit: Some("abc123".into()),
        reason: None,
        log_tail: Vec::new(),
        plan: plan.iter().map(|l| l.to_string()).collect(),
    }
}

const PLAN: [&str; 4] = [
    "runtime: node",
    "version: 20 (engines.node in package.json)",
    "package manager: npm (package-lock.json)",
    "build: npm ci (install the locked dependencies)",
];

async fn a_progress_with_a_plan_is_kept_on_the_deployment(db: &TestDb) {
    let base = db.base(true);
    let (actor, svc) = owner_with_service(&base).await;
    let instance = base.get_service(&actor, &svc).await.unwrap().instance_id;
    let deploy = || async {
        base.create_deployment(&actor, &svc, CreateDeploymentRequest::default(), None)
            .await
            .and_then(Queued::into_deployment)
    };

    let dep = deploy().await.unwrap();
    assert!(dep.plan.is_empty(), "no plan before the build: {dep:?}");
    for (state, plan) in [
        (DeployState::Fetching, &[][..]),
        (DeployState::Building, &PLAN[..]),
        (DeployState::Starting, &[][..]),
    ] {
        base.record_progress(&instance, &progress(&dep.id, state, plan))
            .await
            .unwrap();
    }
    let shown = base.get_deployment(&actor, &dep.id).await.unwrap();
    assert_eq!(shown.state, DeployState::Starting);
    assert_eq!(shown.plan, PLAN, "later steps without a plan keep it");
    let listed = base.list_deployments(&actor, &svc).await.unwrap();
    assert_eq!(listed[0].plan, PLAN);

    // A second deployment whose plan comes with a resent `building` (same state, no move).
    let second = deploy().await.unwrap();
    for (state, plan) in [
        (DeployState::Fetching, &[][..]),
        (DeployState::Building, &[][..]),
        (DeployState::Building, &PLAN[..2]),
    ] {
        base.record_progress(&instance, &progress(&second.id, state, plan))
            .await
            .unwrap();
    }
    let shown = base.get_deployment(&actor, &second.id).await.unwrap();
    assert_eq!(shown.state, DeployState::Building);
    assert_eq!(shown.plan, PLAN[..2]);
    // Each deployment has its own.
    assert_eq!(
        base.get_deployment(&actor, &dep.id).await.unwrap().plan,
        PLAN
    );
}
on_both_backends!(plans, a_progress_with_a_plan_is_kept_on_the_deployment);
