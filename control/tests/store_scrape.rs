//! What a Prometheus scrape reads (`Base::scrape`), on SQLite and PostgreSQL: the newest point
//! of each series with its request figures, deployments running and waiting, finished deploy
//! durations in their bucket, and who may scrape (an Owner's API token yes; a Member's token,
//! a browser session no).

mod common;

use common::{TestDb, owner_with_service};
use control::idempotency::Queued;
use control::{Actor, Base, ClientInfo, DomainError};
use proto::api::{CreateDeploymentRequest, CreateTokenRequest, Role};
use proto::wire::{HostSample, MetricsFrame, Percentiles, RequestSample, ServiceSample};

/// The actor an API token of `role`, made by `by`, authenticates as.
async fn token_actor(base: &Base, by: &Actor, cluster: &str, role: Role) -> Actor {
    let req = CreateTokenRequest {
        name: format!("scrape {role:?}"),
        role,
        expires_in_days: None,
    };
    let made = base.create_token(by, cluster, req).await.unwrap();
    base.authenticate_api_token(&made.token, ClientInfo::default())
        .await
        .unwrap()
}

async fn scrape_reads_the_clusters_figures(db: &TestDb) {
    let base = db.base(true);
    let (actor, svc) = owner_with_service(&base).await;
    let service = base.get_service(&actor, &svc).await.unwrap();
    let (instance, cluster) = (service.instance_id.clone(), service.cluster_id.clone());
    for requests in [40, 2] {
        // Two frames in one 10 s slot (or two slots): the newest point holds them.
        let frame = MetricsFrame {
            at_ms: 0,
            host: HostSample {
                mem_total_bytes: 4 << 30,
                ..HostSample::default()
            },
            services: vec![ServiceSample {
                service_id: svc.as_str().into(),
                cpu_centi_pct: Some(2_500),
                mem_bytes: Some(64 << 20),
                restarts: 1,
                requests: Some(RequestSample {
                    requests,
                    status: [requests, 0, 0, 0],
                    bytes_in: 0,
                    bytes_out: 10 * requests,
                    latency_us: Some(Percentiles {
                        p50: 1_000,
                        p95: 2_000,
                        p99: 3_000,
                    }),
                }),
            }],
        };
        base.record_metrics(&instance, &frame).await.unwrap();
    }
    let dep = base
        .create_deployment(&actor, &svc, CreateDeploymentRequest::default(), None)
        .await
        .and_then(Queued::into_deployment)
        .unwrap();
    // An earlier deployment that went live 45 s after it was made.
    let old = base
        .create_deployment(&actor, &svc, CreateDeploymentRequest::default(), None)
        .await
        .and_then(Queued::into_deployment)
        .unwrap();
    let made = control::store::deployments::by_id(db.store.pool(), &old.id)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    control::store::deployments::record_transition(db.store.pool(), &old.id, "live", made + 45_000)
        .await
        .unwrap();

    let owner = token_actor(&base, &actor, &cluster, Role::Owner).await;
    let s = base.scrape(&owner).await.unwrap();
    assert_eq!(s.cluster, "ana@example.com's cluster");
    assert_eq!(s.instances.len(), 1);
    assert!(!s.instances[0].connected, "no agent in this test");
    // Queued, never delivered: running and waiting for an agent alike (the newer one may have
    // replaced the older).
    assert!(s.deploys_running >= 1, "{dep:?}");
    assert_eq!(s.deploys_waiting, s.deploys_running);
    let live = s.durations.iter().find(|d| d.outcome == "live").unwrap();
    assert_eq!((live.count, live.sum_ms), (1, 45_000));
    assert_eq!(
        live.buckets,
        [0, 0, 1, 0, 0, 0, 0, 0],
        "45 s is in the 60 s bucket"
    );
    let web = s.latest.iter().find(|p| p.service == "api").unwrap();
    assert_eq!(web.instance, "web-1");
    assert_eq!(web.point.cpu_centi_pct, Some(2_500));
    let count = web.point.req_count.unwrap();
    assert!(
        count == 42 || count == 2,
        "the newest slot's requests: {count}"
    );
    assert_eq!(web.point.req_p99_us, Some(3_000));
    let host = s.latest.iter().find(|p| p.service.is_empty()).unwrap();
    assert_eq!(host.point.mem_total_bytes, Some(4 << 30));

    let member = token_actor(&base, &actor, &cluster, Role::Member).await;
    let err = base.scrape(&member).await.unwrap_err();
    assert!(matches!(err, DomainError::Forbidden), "{err:?}");
    let err = base.scrape(&actor).await.unwrap_err();
    assert!(matches!(err, DomainError::Unauthorized(_)), "{err:?}");
}
on_both_backends!(scrape, scrape_reads_the_clusters_figures);
