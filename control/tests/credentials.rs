//! Credentials end when they should (audit finding M5), on SQLite and PostgreSQL: a password
//! change revokes the user's API tokens, a token cannot make a token or an invitation that
//! outlives it, and a removed member's tokens and invitations die with the membership.

mod common;

use common::{TestDb, person};
use control::store::{invites, memberships, tokens};
use control::{Actor, Base, ClientInfo, DomainError, clock};
use proto::api::{AcceptInviteRequest, CreateInviteRequest, CreateTokenRequest, Role};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A new token of `who` and its secret value.
async fn token(base: &Base, who: &Actor, cluster: &str, days: Option<u32>) -> (String, String) {
    let req = CreateTokenRequest {
        name: "ci".into(),
        role: Role::Admin,
        expires_in_days: days,
    };
    let made = base.create_token(who, cluster, req).await.unwrap();
    (made.api_token.id, made.token)
}

async fn expiry(db: &TestDb, token_id: &str) -> Option<i64> {
    tokens::by_id(db.store.pool(), token_id)
        .await
        .unwrap()
        .unwrap()
        .expires_at
}

fn dead(r: Result<Actor, DomainError>) {
    assert!(matches!(r, Err(DomainError::Unauthorized(_))), "{r:?}");
}

async fn m5_password_change_revokes_api_tokens(db: &TestDb) {
    let base = db.base(true);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let (_, cli) = token(&base, &ana, &cluster, None).await;
    let (_, ci) = token(&base, &ana, &cluster, Some(30)).await;
    base.authenticate_api_token(&cli, ClientInfo::default())
        .await
        .unwrap();
    base.change_password(&ana, "correct horse battery", "a brand new passphrase")
        .await
        .unwrap();
    dead(
        base.authenticate_api_token(&cli, ClientInfo::default())
            .await,
    );
    dead(
        base.authenticate_api_token(&ci, ClientInfo::default())
            .await,
    );
    // The session that changed it goes on; a token made after the change works.
    let (_, fresh) = token(&base, &ana, &cluster, None).await;
    base.authenticate_api_token(&fresh, ClientInfo::default())
        .await
        .unwrap();
}
on_both_backends!(m5_password, m5_password_change_revokes_api_tokens);

async fn m5_a_token_cannot_mint_a_longer_lived_token(db: &TestDb) {
    let base = db.base(true);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let req = CreateTokenRequest {
        name: "short".into(),
        role: Role::Admin,
        expires_in_days: Some(1),
    };
    let short = base.create_token(&ana, &cluster, req).await.unwrap();
    let parent = expiry(db, &short.api_token.id).await.unwrap();
    let through = base
        .authenticate_api_token(&short.token, ClientInfo::default())
        .await
        .unwrap();

    let (forever, _) = token(&base, &through, &cluster, None).await;
    assert_eq!(expiry(db, &forever).await, Some(parent));
    let (month, _) = token(&base, &through, &cluster, Some(30)).await;
    assert_eq!(expiry(db, &month).await, Some(parent));

    let req = CreateInviteRequest {
        email: "cy@example.com".into(),
        role: Role::Member,
    };
    let invite = base.create_invite(&through, &cluster, req).await.unwrap();
    let pending = invites::pending_in(db.store.pool(), &cluster, clock::now_ms())
        .await
        .unwrap();
    let row = pending.iter().find(|i| i.id == invite.invite.id).unwrap();
    assert!(
        row.expires_at <= parent,
        "the invitation outlives its token"
    );

    // A token that never expires may make one that never expires; a session always may.
    let (root, root_secret) = token(&base, &ana, &cluster, None).await;
    assert_eq!(expiry(db, &root).await, None);
    let through_root = base
        .authenticate_api_token(&root_secret, ClientInfo::default())
        .await
        .unwrap();
    let (child, _) = token(&base, &through_root, &cluster, None).await;
    assert_eq!(expiry(db, &child).await, None);
    let (long, _) = token(&base, &through_root, &cluster, Some(30)).await;
    let e = expiry(db, &long).await.unwrap();
    assert!(e > clock::now_ms() + 29 * DAY_MS);
}
on_both_backends!(m5_short_token, m5_a_token_cannot_mint_a_longer_lived_token);

async fn invite_link(base: &Base, who: &Actor, cluster: &str, email: &str) -> String {
    let req = CreateInviteRequest {
        email: email.into(),
        role: Role::Member,
    };
    let made = base.create_invite(who, cluster, req).await.unwrap();
    made.invite_url.rsplit('/').next().unwrap().to_string()
}

fn signup(email: &str) -> AcceptInviteRequest {
    serde_json::from_value(serde_json::json!({
        "email": email,
        "password": "correct horse battery",
        "name": email,
    }))
    .unwrap()
}

async fn m5_removed_members_tokens_and_invites_die(db: &TestDb) {
    let base = db.base(true);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let (bo, bo_id, _) = person(&base, "bo@example.com").await;
    let (cy, cy_id, _) = person(&base, "cy@example.com").await;
    let pool = db.store.pool();
    let now = clock::now_ms();
    memberships::insert(pool, &cluster, &bo_id, Role::Admin, now)
        .await
        .unwrap();
    memberships::insert(pool, &cluster, &cy_id, Role::Admin, now)
        .await
        .unwrap();

    let (_, bo_token) = token(&base, &bo, &cluster, None).await;
    let to_di = invite_link(&base, &bo, &cluster, "di@example.com").await;
    base.remove_member(&ana, &cluster, &bo_id).await.unwrap();
    dead(
        base.authenticate_api_token(&bo_token, ClientInfo::default())
            .await,
    );
    let err = base.invite_info(&to_di).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
    let err = base
        .accept_invite_signup(&to_di, signup("di@example.com"), &ClientInfo::default())
        .await;
    assert!(err.is_err(), "a removed Admin's invitation still works");
    // Invited again, Bo does not get the old token back.
    memberships::insert(pool, &cluster, &bo_id, Role::Admin, clock::now_ms())
        .await
        .unwrap();
    dead(
        base.authenticate_api_token(&bo_token, ClientInfo::default())
            .await,
    );

    // An inviter demoted below the role they invited to: the invitation is refused.
    let to_ed = invite_link(&base, &cy, &cluster, "ed@example.com").await;
    base.change_role(&ana, &cluster, &cy_id, Role::Guest)
        .await
        .unwrap();
    let err = base
        .accept_invite_signup(&to_ed, signup("ed@example.com"), &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
    let members = base.list_members(&ana, &cluster).await.unwrap();
    assert!(
        members.members.iter().all(|m| m.email != "ed@example.com"),
        "{members:?}"
    );
}
on_both_backends!(m5_removed, m5_removed_members_tokens_and_invites_die);
