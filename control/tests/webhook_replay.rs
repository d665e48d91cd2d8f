//! A captured GitHub delivery cannot be replayed (audit finding M6), on SQLite and PostgreSQL:
//! the delivery id is not signed, so a replay with a new id, or with none, is recognised by its
//! signed body and answered "duplicate" without deploying.

mod common;

use common::{TestDb, owner_with_service};
use control::webhooks::providers::github_signature;
use control::webhooks::{HookHeaders, Provider};
use control::{Base, ClientInfo};
use proto::api::{EnableWebhookRequest, HookReply};

fn signed(secret: &str, delivery: Option<&str>, body: &[u8]) -> HookHeaders {
    let mut h = vec![
        ("X-GitHub-Event".to_string(), "push".to_string()),
        (
            "X-Hub-Signature-256".to_string(),
            github_signature(secret.as_bytes(), body),
        ),
    ];
    if let Some(d) = delivery {
        h.push(("X-GitHub-Delivery".to_string(), d.to_string()));
    }
    HookHeaders::new(h)
}

async fn receive(base: &Base, svc: &str, headers: HookHeaders, body: &[u8]) -> HookReply {
    base.receive_hook(Provider::GitHub, svc, &headers, body, ClientInfo::default())
        .await
        .unwrap()
}

async fn m6_a_replayed_webhook_deploys_once(db: &TestDb) {
    let base = db.base(true);
    let (actor, svc) = owner_with_service(&base).await;
    let secret = base
        .enable_webhook(&actor, &svc, EnableWebhookRequest::default())
        .await
        .unwrap()
        .secret;
    let old = br#"{"ref":"refs/heads/main","before":"aaa0001","after":"abc1234"}"#;
    let first = receive(&base, &svc, signed(&secret, Some("d-1"), old), old).await;
    assert!(matches!(first, HookReply::Deployed { .. }), "{first:?}");
    for delivery in [Some("d-1"), Some("d-2"), None, None] {
        let again = receive(&base, &svc, signed(&secret, delivery, old), old).await;
        assert_eq!(again, HookReply::Duplicate, "replayed as {delivery:?}");
    }
    // The next push (another body) deploys, with or without an id; its replay does not.
    let new = br#"{"ref":"refs/heads/main","before":"abc1234","after":"abc1235"}"#;
    let next = receive(&base, &svc, signed(&secret, None, new), new).await;
    assert!(matches!(next, HookReply::Deployed { .. }), "{next:?}");
    let again = receive(&base, &svc, signed(&secret, Some("d-9"), new), new).await;
    assert_eq!(again, HookReply::Duplicate);

    let refs: Vec<Option<String>> = base
        .list_deployments(&actor, &svc)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.git_ref)
        .collect();
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert!(refs.contains(&Some("abc1234".into())));
    assert!(refs.contains(&Some("abc1235".into())));
}
on_both_backends!(m6, m6_a_replayed_webhook_deploys_once);
