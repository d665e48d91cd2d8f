//! The dispatcher's store side, on SQLite and PostgreSQL, with a hand-moved clock: the sweeper
//! ends deployments whose instance stayed offline past the offline limit, or that outlived the
//! build limit plus slack, and nothing younger; an agent heard from recently keeps its
//! deployment going; orders to deliver are read per instance.

mod common;

use std::time::Duration;

use common::{TestDb, owner_with_service};
use control::clock::{self, Clock};
use control::idempotency::Queued;
use control::store::deployments::{self as sql, Scope};
use control::{Actor, Base, BaseConfig, Limits};
use proto::api::{CreateDeploymentRequest, Deployment, ServiceStatus};
use proto::deploy::DeployState;

/// Ana's service `api` on instance `web-1`, on a Base with `limits` whose clock stands still
/// until the test moves it.
async fn start(db: &TestDb, limits: Limits) -> (Base, Clock, Actor, String) {
    let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    cfg.limits = limits;
    let clock = Clock::manual(clock::now_ms());
    let base = Base::new(db.store.clone(), cfg).with_clock(clock.clone());
    let (actor, svc) = owner_with_service(&base).await;
    (base, clock, actor, svc)
}

async fn deploy(base: &Base, actor: &Actor, svc: &str) -> Deployment {
    base.create_deployment(actor, svc, CreateDeploymentRequest::default(), None)
        .await
        .and_then(Queued::into_deployment)
        .unwrap()
}

const OFFLINE: &str = "instance web-1 has been offline for over 5 minutes";

/// Moves the clock `by`, where nothing may end yet (a limit reached is not a limit passed), then
/// 1 ms on, where `dep` ends `timed_out` with `reason`.
async fn ends_just_after(
    (base, clock, actor): (&Base, &Clock, &Actor),
    dep: &str,
    by: Duration,
    reason: &str,
) {
    clock.advance(by);
    assert_eq!(base.sweep().await.unwrap(), 0, "{reason}: not yet");
    let shown = base.get_deployment(actor, dep).await.unwrap();
    assert_eq!(shown.state, DeployState::Queued);
    clock.advance(Duration::from_millis(1));
    assert_eq!(base.sweep().await.unwrap(), 1, "{reason}: now");
    let shown = base.get_deployment(actor, dep).await.unwrap();
    assert_eq!(shown.state, DeployState::TimedOut);
    assert_eq!(shown.reason.as_deref(), Some(reason));
}

async fn an_offline_instance_times_its_deployment_out_after_the_offline_limit(db: &TestDb) {
    let (base, clock, actor, svc) = start(db, Limits::default()).await;
    let dep = deploy(&base, &actor, &svc).await;
    let cancelled = deploy(&base, &actor, &svc).await;
    base.cancel_deployment(&actor, &cancelled.id).await.unwrap();

    let five_minutes = Duration::from_secs(5 * 60);
    ends_just_after((&base, &clock, &actor), &dep.id, five_minutes, OFFLINE).await;
    let service = base.get_service(&actor, &svc).await.unwrap();
    assert_eq!(service.status, ServiceStatus::New, "nothing ever went live");
    let left = base.get_deployment(&actor, &cancelled.id).await.unwrap();
    assert_eq!(left.state, DeployState::Cancelled, "ended ones are left");
    assert_eq!(base.sweep().await.unwrap(), 0, "and nothing twice");
}
on_both_backends!(
    offline_limit,
    an_offline_instance_times_its_deployment_out_after_the_offline_limit
);

async fn an_instance_heard_from_recently_keeps_its_deployment(db: &TestDb) {
    let (base, clock, actor, svc) = start(db, Limits::default()).await;
    let instance = base.get_service(&actor, &svc).await.unwrap().instance_id;
    let dep = deploy(&base, &actor, &svc).await;

    // The agent said hello four minutes in, then went away again.
    clock.advance(Duration::from_secs(4 * 60));
    let pool = db.store.pool();
    control::store::instances::touch(pool, &instance, "1.0.0", "{}", clock.now_ms())
        .await
        .unwrap();
    clock.advance(Duration::from_secs(2 * 60));
    // Five minutes after it was last heard from, not after the deployment was made.
    let world = (&base, &clock, &actor);
    ends_just_after(world, &dep.id, Duration::from_secs(3 * 60), OFFLINE).await;
}
on_both_backends!(
    heard_recently,
    an_instance_heard_from_recently_keeps_its_deployment
);

async fn a_deployment_past_the_build_limit_plus_slack_times_out(db: &TestDb) {
    // The offline limit is out of reach, so only the build limit can end it.
    let limits = Limits {
        offline_limit: Duration::from_secs(24 * 3600),
        slack: Duration::from_secs(2 * 60),
        ..Limits::default()
    };
    let (base, clock, actor, svc) = start(db, limits).await;
    let dep = deploy(&base, &actor, &svc).await;

    // The default build limit (15 minutes) plus the slack (2).
    let limit = "no result within the build limit plus 2 minutes";
    let seventeen_minutes = Duration::from_secs(17 * 60);
    ends_just_after((&base, &clock, &actor), &dep.id, seventeen_minutes, limit).await;
}
on_both_backends!(
    build_limit,
    a_deployment_past_the_build_limit_plus_slack_times_out
);

async fn orders_to_deliver_are_read_per_instance(db: &TestDb) {
    let (base, clock, actor, svc) = start(db, Limits::default()).await;
    let service = base.get_service(&actor, &svc).await.unwrap();
    let other = base
        .create_instance(&actor, &service.cluster_id, "web-2")
        .await
        .unwrap()
        .instance
        .id;
    let req: proto::api::CreateServiceRequest = serde_json::from_value(serde_json::json!({
        "name": "worker",
        "instance_id": other,
        "source": {"git": {"url": "file:///srv/worker.git", "branch": "main"}},
    }))
    .unwrap();
    let elsewhere = base
        .create_service(&actor, &service.cluster_id, req)
        .await
        .unwrap()
        .id;
    let first = deploy(&base, &actor, &svc).await;
    clock.advance(Duration::from_millis(1));
    let second = deploy(&base, &actor, &svc).await;
    let theirs = deploy(&base, &actor, &elsewhere).await;
    let pool = db.store.pool();
    sql::set_accepted(pool, &first.id, clock.now_ms())
        .await
        .unwrap();

    let ids = |rows: Vec<sql::Placed>| rows.into_iter().map(|p| p.row.id).collect::<Vec<_>>();
    let queued = sql::queued_for(pool, &service.instance_id).await.unwrap();
    assert_eq!(queued[0].instance_name, "web-1");
    assert_eq!(
        ids(queued),
        [second.id.as_str()],
        "accepted ones are not sent again"
    );
    assert_eq!(
        ids(sql::queued_for(pool, &other).await.unwrap()),
        [theirs.id]
    );

    let accepted = Scope {
        instance_id: Some(&service.instance_id),
        accepted: Some(true),
        created_before: None,
    };
    let states = [DeployState::Queued, DeployState::Building];
    let given = sql::in_states(pool, &states, accepted).await.unwrap();
    assert_eq!(ids(given), [first.id.as_str()]);
    let second_at = sql::by_id(pool, &second.id)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    let older = Scope {
        created_before: Some(second_at),
        ..Scope::default()
    };
    let before_second = sql::in_states(pool, &states, older).await.unwrap();
    assert_eq!(
        ids(before_second),
        [first.id.as_str()],
        "strictly older only"
    );
    assert!(
        sql::in_states(pool, &[DeployState::Live], Scope::default())
            .await
            .unwrap()
            .is_empty()
    );
}
on_both_backends!(per_instance, orders_to_deliver_are_read_per_instance);
