//! What an Admin may not do to what an Owner made (audit finding L14), on SQLite and
//! PostgreSQL: revoke the Owner's API tokens, or withdraw an invitation to become Admin.

mod common;

use common::{TestDb, person};
use control::store::memberships;
use control::{Actor, Base, DomainError, clock};
use proto::api::{CreateInviteRequest, CreateTokenRequest, Role};

async fn token(base: &Base, who: &Actor, cluster: &str, name: &str, role: Role) -> String {
    let req = CreateTokenRequest {
        name: name.into(),
        role,
        expires_in_days: Some(30),
    };
    base.create_token(who, cluster, req)
        .await
        .unwrap()
        .api_token
        .id
}

async fn invite(base: &Base, who: &Actor, cluster: &str, email: &str, role: Role) -> String {
    let req = CreateInviteRequest {
        email: email.into(),
        role,
    };
    base.create_invite(who, cluster, req)
        .await
        .unwrap()
        .invite
        .id
}

async fn l14_admins_cannot_revoke_owner_tokens_or_admin_invites(db: &TestDb) {
    let base = db.base(true);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let (bo, bo_id, _) = person(&base, "bo@example.com").await;
    memberships::insert(
        db.store.pool(),
        &cluster,
        &bo_id,
        Role::Admin,
        clock::now_ms(),
    )
    .await
    .unwrap();

    let owners = token(&base, &ana, &cluster, "ci", Role::Member).await;
    let err = base.revoke_token(&bo, &cluster, &owners).await.unwrap_err();
    assert!(matches!(err, DomainError::Forbidden), "{err:?}");
    let own = token(&base, &bo, &cluster, "mine", Role::Member).await;
    base.revoke_token(&bo, &cluster, &own).await.unwrap();
    let admins = token(&base, &bo, &cluster, "deploys", Role::Member).await;
    base.revoke_token(&ana, &cluster, &admins).await.unwrap();
    base.revoke_token(&ana, &cluster, &owners).await.unwrap();

    let to_admin = invite(&base, &ana, &cluster, "cy@example.com", Role::Admin).await;
    let err = base
        .revoke_invite(&bo, &cluster, &to_admin)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Forbidden), "{err:?}");
    let to_member = invite(&base, &bo, &cluster, "di@example.com", Role::Member).await;
    base.revoke_invite(&bo, &cluster, &to_member).await.unwrap();
    base.revoke_invite(&ana, &cluster, &to_admin).await.unwrap();
    let err = base
        .revoke_invite(&ana, &cluster, &to_admin)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
}
on_both_backends!(l14, l14_admins_cannot_revoke_owner_tokens_or_admin_invites);
