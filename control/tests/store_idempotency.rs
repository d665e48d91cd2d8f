//! Idempotency keys in the store, on SQLite and PostgreSQL: a retry replays, a different request
//! is refused, and two racing requests with one key make one deployment (the losing insert must
//! not abort anything on PostgreSQL).

mod common;

use common::{TestDb, owner_with_service};
use control::idempotency::Queued;
use proto::api::CreateDeploymentRequest;

fn at(r: &str) -> CreateDeploymentRequest {
    CreateDeploymentRequest {
        git_ref: Some(r.into()),
    }
}

async fn keyed_deploys_happen_once(db: &TestDb) {
    let base = db.base(true);
    let (actor, svc) = owner_with_service(&base).await;
    let first = base
        .create_deployment(&actor, &svc, at("main"), Some("k-1"))
        .await
        .unwrap();
    let Queued::Created(made) = first else {
        panic!("{first:?}")
    };
    let again = base
        .create_deployment(&actor, &svc, at("main"), Some("k-1"))
        .await
        .unwrap();
    assert!(
        matches!(&again, Queued::Replayed(d) if *d == made),
        "{again:?}"
    );
    let other = base
        .create_deployment(&actor, &svc, at("v2"), Some("k-1"))
        .await
        .unwrap();
    assert!(matches!(other, Queued::KeyReused), "{other:?}");

    let racing = (0..4).map(|_| base.create_deployment(&actor, &svc, at("main"), Some("k-2")));
    let results = futures_util::future::join_all(racing).await;
    let created = results
        .iter()
        .filter(|r| matches!(r, Ok(Queued::Created(_))))
        .count();
    assert_eq!(created, 1, "{results:?}");
    assert_eq!(base.list_deployments(&actor, &svc).await.unwrap().len(), 2);
}
on_both_backends!(idempotency, keyed_deploys_happen_once);
