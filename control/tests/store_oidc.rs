//! OIDC bindings in the store, on SQLite and PostgreSQL: added, listed with their creator,
//! found by issuer for an exchange (which then issues a token of the binding's role for its
//! cluster, lasting an hour), refused above the creator's role or as owner, removed with an
//! event each; another cluster's binding is not found.

mod common;

use common::{TestDb, actions, person};
use control::store::oidc;
use control::{Base, BaseConfig, ClientInfo, DomainError};
use proto::api::{CreateOidcBindingRequest, OidcExchangeRequest, OidcProvider, Role};
use testkit::oidc::Issuer;

fn binding(issuer: &str, repository: &str, role: Role) -> CreateOidcBindingRequest {
    CreateOidcBindingRequest {
        provider: OidcProvider::Github,
        issuer: Some(issuer.into()),
        audience: None,
        repository: repository.into(),
        git_ref: Some("refs/heads/main".into()),
        environment: None,
        role,
    }
}

async fn bindings_are_kept_found_by_issuer_and_removed(db: &TestDb) {
    let issuer = Issuer::start();
    let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    cfg.open_signup = true;
    cfg.oidc_http_loopback = true;
    let base = Base::new(db.store.clone(), cfg);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let (bo, _, other) = person(&base, "bo@example.com").await;

    let made = base
        .add_oidc_binding(
            &ana,
            &cluster,
            binding(issuer.url(), "acme/shop", Role::Member),
        )
        .await
        .unwrap();
    assert_eq!(
        made.audience, "http://127.0.0.1:8080",
        "defaults to Base's URL"
    );
    assert_eq!(made.git_ref.as_deref(), Some("refs/heads/main"));
    let owner = base
        .add_oidc_binding(&ana, &cluster, binding(issuer.url(), "acme/x", Role::Owner))
        .await;
    assert!(
        matches!(owner, Err(DomainError::Invalid { field: "role", .. })),
        "{owner:?}"
    );
    let plain_http = base
        .add_oidc_binding(
            &ana,
            &cluster,
            binding("http://issuer.example.com", "a/b", Role::Guest),
        )
        .await;
    assert!(matches!(
        plain_http,
        Err(DomainError::Invalid {
            field: "issuer",
            ..
        })
    ));

    let listed = base.oidc_bindings(&ana, &cluster).await.unwrap().bindings;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].created_by.as_deref(), Some("ana@example.com"));
    let found = oidc::of_issuer(db.store.pool(), issuer.url())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].role, Role::Member);
    // Bo's cluster knows nothing of it.
    let theirs = base.remove_oidc_binding(&bo, &other, &made.id).await;
    assert!(
        matches!(theirs, Err(DomainError::NotFound(_))),
        "{theirs:?}"
    );

    // An exchange through it: a Member token for Ana's cluster, for an hour.
    let claims = issuer.github_claims(&made.audience, "acme/shop");
    let req = OidcExchangeRequest {
        token: issuer.sign("rsa-1", &claims),
        cluster: None,
    };
    let got = base
        .oidc_exchange(req, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(
        (got.cluster_id.as_str(), got.role),
        (cluster.as_str(), Role::Member)
    );
    let tokens = base.list_tokens(&ana, &cluster).await.unwrap().tokens;
    assert!(
        tokens
            .iter()
            .any(|t| t.id == got.token_id && t.expires_at.is_some())
    );

    base.remove_oidc_binding(&ana, &cluster, &made.id)
        .await
        .unwrap();
    assert!(
        base.oidc_bindings(&ana, &cluster)
            .await
            .unwrap()
            .bindings
            .is_empty()
    );
    let seen = actions(&base, &ana, &cluster).await;
    for a in ["oidc.binding_add", "oidc.exchange", "oidc.binding_remove"] {
        assert!(seen.iter().any(|s| s == a), "{a} in {seen:?}");
    }
    // With the binding gone the issuer is unknown again.
    let req = OidcExchangeRequest {
        token: issuer.sign("rsa-1", &claims),
        cluster: None,
    };
    let gone = base.oidc_exchange(req, &ClientInfo::default()).await;
    assert!(
        matches!(gone, Err(DomainError::ForbiddenBecause(ref m)) if m.contains("unknown issuer")),
        "{gone:?}"
    );
}
on_both_backends!(oidc_bindings, bindings_are_kept_found_by_issuer_and_removed);
