//! Base replicas on one PostgreSQL (issue 20), each a real `Base` with its own replica id on
//! the same database: an agent held by one replica is online on the others until that replica's
//! lease runs out; a reconnect's higher epoch survives the old holder's late release; one
//! replica at a time runs the background jobs, and another takes over when it dies; a change
//! on one replica wakes the live views of another through NOTIFY; a command decided on one
//! replica reaches the agent another holds, once, and its outcome comes back; a deploy whose
//! deciding replica never forwarded it is delivered by the holder, once. On SQLite, one
//! replica: the registry alone answers.

mod common;

use std::time::Duration;

use common::replicas::{eventually, replica, two_listening};
use common::{Kind, TestDb, owner_with_service};
use control::Base;
use control::clock::Clock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_held_by_one_replica_is_online_on_the_others_until_its_lease_runs_out() {
    let db = TestDb::new(Kind::Postgres).await;
    let clock = Clock::manual(1_900_000_000_000);
    let (a, b) = (replica(&db, "a", &clock), replica(&db, "b", &clock));
    a.join_replicas().await.unwrap();
    b.join_replicas().await.unwrap();
    let (ana, svc) = owner_with_service(&a).await;
    let service = a.get_service(&ana, &svc).await.unwrap();
    let (instance, cluster) = (service.instance_id, service.cluster_id);
    assert!(!a.instance_online(&instance));

    let first = b.claim_connection(&instance, &cluster).await.unwrap();
    a.refresh_held_elsewhere().await.unwrap();
    assert!(a.instance_online(&instance), "held by b, online on a");

    // The agent reconnects to a; b notices its old connection end only afterwards.
    let second = a.claim_connection(&instance, &cluster).await.unwrap();
    assert_eq!(second, first + 1);
    b.release_connection(&instance, &cluster, first).await;
    b.refresh_held_elsewhere().await.unwrap();
    assert!(
        b.instance_online(&instance),
        "b's late release did not remove a's newer connection"
    );

    // a stops renewing its lease (killed): once it runs out, its agents are offline on b.
    clock.advance(Duration::from_secs(10));
    b.join_replicas().await.unwrap();
    b.refresh_held_elsewhere().await.unwrap();
    assert!(b.instance_online(&instance), "a's lease still runs");
    clock.advance(Duration::from_secs(6));
    b.refresh_held_elsewhere().await.unwrap();
    assert!(!b.instance_online(&instance), "a's lease ran out");
    assert_eq!(b.live_replicas().await.unwrap(), ["b"]);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_runs_the_jobs_and_another_takes_over_when_it_dies() {
    let db = TestDb::new(Kind::Postgres).await;
    let clock = Clock::system();
    let (a, b) = (replica(&db, "a", &clock), replica(&db, "b", &clock));
    assert!(a.leads_jobs().await);
    assert!(!b.leads_jobs().await, "a holds the jobs' lock");
    assert!(a.leads_jobs().await, "and keeps it");
    assert!(!b.leads_jobs().await);
    // a's process ends: its session, and the lock with it.
    drop(a);
    eventually("b leads once a is gone", async || b.leads_jobs().await).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_replica_wakes_live_views_on_another() {
    let db = TestDb::new(Kind::Postgres).await;
    let (a, b, stop) = two_listening(&db).await;
    let (ana, svc) = owner_with_service(&a).await;
    let service = a.get_service(&ana, &svc).await.unwrap();
    let (instance, cluster) = (service.instance_id, service.cluster_id);
    let mut services_on_b = b.subscribe_activity(&cluster);
    let instances_on_b = b.registry().subscribe(&cluster);
    let another_cluster_on_b = b.subscribe_activity("cls_someone_else");

    // The service changed through a: b's views of its cluster wake, no other cluster's.
    let patch = proto::api::UpdateServiceRequest {
        name: Some("renamed".into()),
        ..Default::default()
    };
    a.update_service(&ana, &svc, patch).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), services_on_b.changed())
        .await
        .expect("b's service views woke")
        .unwrap();
    assert!(!another_cluster_on_b.has_changed().unwrap());
    // An agent connecting to a: b's instance views wake, and b shows it online.
    a.claim_connection(&instance, &cluster).await.unwrap();
    eventually("b sees the agent a holds", async || {
        b.instance_online(&instance)
    })
    .await;
    assert!(instances_on_b.has_changed().unwrap());
    let _ = stop.send(true);
    db.finish().await;
}

/// On SQLite there is one replica: online is what its registry holds, nothing is recorded for
/// others, and it runs the jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_the_one_replica_answers_alone() {
    let db = TestDb::new(Kind::Sqlite).await;
    let a = replica(&db, "a", &Clock::system());
    a.join_replicas().await.unwrap();
    let (ana, svc) = owner_with_service(&a).await;
    let service = a.get_service(&ana, &svc).await.unwrap();
    let (instance, cluster) = (service.instance_id, service.cluster_id);
    assert_eq!(
        a.claim_connection(&instance, &cluster).await,
        None,
        "nothing to record for other replicas"
    );
    assert!(!a.refresh_held_elsewhere().await.unwrap());
    assert!(
        !a.instance_online(&instance),
        "only a live connection counts here"
    );
    assert!(a.leads_jobs().await);
    db.finish().await;
}

/// Replicas a and b fanning out, a service, and its agent held by b: a connection whose
/// session answers every command `Ok` and counts them; returned once a sees it online.
struct AgentOnB {
    a: Base,
    b: Base,
    _stop: tokio::sync::watch::Sender<bool>,
    ana: control::Actor,
    service: String,
    instance: String,
    cluster: String,
    epoch: i64,
    seen: std::sync::Arc<std::sync::Mutex<Vec<proto::wire::Command>>>,
}

async fn agent_on_b(db: &TestDb) -> AgentOnB {
    use proto::wire::{Mux, Outcome, Side};

    let (a, b, stop) = two_listening(db).await;
    let (ana, svc) = owner_with_service(&a).await;
    let service = a.get_service(&ana, &svc).await.unwrap();
    let (instance, cluster) = (service.instance_id, service.cluster_id);
    let silent = futures_util::stream::pending::<Result<Vec<u8>, std::convert::Infallible>>();
    let mux = Mux::new(futures_util::sink::drain(), silent, Side::Base).0;
    let mut reg = b.registry().register(&instance, &cluster, mux);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let counted = seen.clone();
    tokio::spawn(async move {
        while let Some(p) = reg.commands.recv().await {
            counted.lock().unwrap().push(p.command.clone());
            let _ = p.reply.send(Outcome::Ok);
        }
    });
    let epoch = b.claim_connection(&instance, &cluster).await.unwrap();
    eventually("a sees the agent b holds", async || {
        a.instance_online(&instance)
    })
    .await;
    AgentOnB {
        a,
        b,
        _stop: stop,
        ana,
        service: svc,
        instance,
        cluster,
        epoch,
        seen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_decided_on_one_replica_reaches_the_agent_another_holds_once() {
    use proto::wire::{Command, Outcome};

    let db = TestDb::new(Kind::Postgres).await;
    let AgentOnB {
        a,
        b,
        _stop,
        instance,
        cluster,
        epoch,
        seen,
        ..
    } = agent_on_b(&db).await;

    let answered = a
        .send_command(&instance, Command::Ping, Duration::from_secs(10))
        .await;
    assert_eq!(answered, Ok(Outcome::Ok));
    a.run_command(&instance, Command::Ping, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "each command reached the agent once"
    );

    // Held nowhere: offline at once, nothing written for anyone.
    b.registry().disconnect(&instance);
    b.release_connection(&instance, &cluster, epoch).await;
    eventually("a sees it offline", async || !a.instance_online(&instance)).await;
    let offline = a
        .send_command(&instance, Command::Ping, Duration::from_secs(10))
        .await;
    assert_eq!(
        offline,
        Err(control::gateway::registry::CommandError::Offline)
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    db.finish().await;
}

/// The replica that decided a deploy dies after committing it and before forwarding it. Here
/// that replica is c, which never heard that b holds the agent (it does not fan out), so its
/// own delivery finds the agent offline and gives up: only the `queued` row exists. b's
/// sweeper delivers it once it is older than twice the command timeout, and only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_its_decider_never_forwarded_is_delivered_by_the_holder_once() {
    use proto::wire::Command;

    let db = TestDb::new(Kind::Postgres).await;
    let AgentOnB {
        b,
        _stop,
        ana,
        service,
        instance,
        seen,
        ..
    } = agent_on_b(&db).await;
    let deploys_of = |id: &str| {
        let seen = seen.lock().unwrap();
        let of = |c: &&Command| matches!(c, Command::Deploy(o) if o.deployment_id == *id);
        seen.iter().filter(of).count()
    };
    let c = replica(&db, "c", &Clock::system());
    c.join_replicas().await.unwrap();
    let request = proto::api::CreateDeploymentRequest::default();
    let dep = c
        .create_deployment(&ana, &service, request, None)
        .await
        .and_then(control::idempotency::Queued::into_deployment)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(deploys_of(&dep.id), 0, "c could not forward it");

    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let sweeper = b.clone();
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        sweeper
            .run_sweeper(Duration::from_millis(200), stopped)
            .await
    });
    eventually("b delivers the order", async || deploys_of(&dep.id) == 1).await;
    eventually("the order is accepted", async || {
        let pool = db.store.pool();
        let left = control::store::deployments::queued_for(pool, &instance).await;
        left.unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(deploys_of(&dep.id), 1, "delivered once, not on every tick");
    let _ = stop.send(true);
    db.finish().await;
}

/// Not a timed test: prints the round trip of a command decided where the agent is connected
/// and of one forwarded through the database to the replica holding it, for
/// `.ci/bench-replicas` (BENCHMARKS.md); asserts only that every command was answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_round_trip_local_and_forwarded() {
    use proto::wire::{Command, Outcome};

    let runs: usize = std::env::var("DPLOYR_BENCH_COMMANDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let db = TestDb::new(Kind::Postgres).await;
    let AgentOnB {
        a,
        b,
        _stop,
        instance,
        ..
    } = agent_on_b(&db).await;

    let (mut local, mut forwarded) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for (from, times) in [(&b, &mut local), (&a, &mut forwarded)] {
        for _ in 0..runs {
            let start = std::time::Instant::now();
            let answer = from
                .send_command(&instance, Command::Ping, Duration::from_secs(10))
                .await;
            times.push(start.elapsed());
            assert_eq!(answer, Ok(Outcome::Ok));
        }
        times.sort();
    }
    let at = |t: &[Duration], q: f64| t[((t.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "command round trip over {runs} pings: local p50 {:.3} ms p99 {:.3} ms; forwarded p50 \
         {:.3} ms p99 {:.3} ms; forwarded/local p50 {:.1}x",
        at(&local, 0.5),
        at(&local, 0.99),
        at(&forwarded, 0.5),
        at(&forwarded, 0.99),
        at(&forwarded, 0.5) / at(&local, 0.5),
    );
    db.finish().await;
}
