//! Webhooks in the store, on SQLite and PostgreSQL: the sealed secret verifies deliveries, a
//! delivery id deploys once (a repeated id must not abort the transaction on PostgreSQL), a
//! master key rotation reseals hook secrets, and switching the hook off refuses deliveries.

mod common;

use common::{TestDb, owner_with_service};
use control::secrets::Keyring;
use control::secrets::keyring::new_key;
use control::webhooks::providers::github_signature;
use control::webhooks::{HookHeaders, Provider};
use control::{Base, BaseConfig, ClientInfo, DomainError};
use proto::api::{EnableWebhookRequest, HookReply};

fn signed(secret: &str, delivery: &str, body: &[u8]) -> HookHeaders {
    HookHeaders::new([
        ("X-GitHub-Event".to_string(), "push".to_string()),
        ("X-GitHub-Delivery".to_string(), delivery.to_string()),
        (
            "X-Hub-Signature-256".to_string(),
            github_signature(secret.as_bytes(), body),
        ),
    ])
}

async fn hooks_deploy_once_and_survive_a_key_rotation(db: &TestDb) {
    let key = new_key();
    let config = || BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    let base = Base::new(db.store.clone(), config()).with_keyring(Keyring::from_keys(key, &[]));
    let (actor, svc) = owner_with_service(&base).await;
    let created = base
        .enable_webhook(&actor, &svc, EnableWebhookRequest::default())
        .await
        .unwrap();
    let secret = created.secret;
    let body = br#"{"ref":"refs/heads/main","after":"abc1234"}"#;
    let receive_at = |base: Base, headers: HookHeaders, body: &'static [u8]| {
        let svc = svc.clone();
        async move {
            base.receive_hook(
                Provider::GitHub,
                &svc,
                &headers,
                body,
                ClientInfo::default(),
            )
            .await
        }
    };
    let receive = |base: Base, headers: HookHeaders| receive_at(base, headers, body);
    let first = receive(base.clone(), signed(&secret, "d-1", body))
        .await
        .unwrap();
    assert!(matches!(first, HookReply::Deployed { .. }), "{first:?}");
    let again = receive(base.clone(), signed(&secret, "d-1", body))
        .await
        .unwrap();
    assert_eq!(again, HookReply::Duplicate);
    let deployments = base.list_deployments(&actor, &svc).await.unwrap();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].git_ref.as_deref(), Some("abc1234"));

    // A new master key: the hook secret is sealed again and still verifies.
    let rotated =
        Base::new(db.store.clone(), config()).with_keyring(Keyring::from_keys(new_key(), &[key]));
    assert!(rotated.reseal_secrets().await.unwrap() >= 1);
    // (Another push: the same body again would be a replay.)
    let next = br#"{"ref":"refs/heads/main","after":"abc1235"}"#;
    let after = receive_at(rotated.clone(), signed(&secret, "d-2", next), next)
        .await
        .unwrap();
    assert!(matches!(after, HookReply::Deployed { .. }), "{after:?}");
    // The old key alone no longer opens it (it was resealed, not copied).
    let old_only = Base::new(db.store.clone(), config()).with_keyring(Keyring::from_keys(key, &[]));
    let err = receive(old_only, signed(&secret, "d-3", body)).await;
    assert!(matches!(err, Err(DomainError::Unauthorized(_))), "{err:?}");

    rotated.disable_webhook(&actor, &svc).await.unwrap();
    let err = receive(rotated.clone(), signed(&secret, "d-4", body)).await;
    assert!(matches!(err, Err(DomainError::Unauthorized(_))), "{err:?}");
    assert_eq!(
        rotated.list_deployments(&actor, &svc).await.unwrap().len(),
        2
    );
}
on_both_backends!(webhooks, hooks_deploy_once_and_survive_a_key_rotation);
