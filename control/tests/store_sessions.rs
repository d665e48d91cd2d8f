//! Sessions and sign-ins in the store, on SQLite and PostgreSQL: a person's live sessions are
//! listed with their device and the current one marked, a session's last use is written at
//! most once a minute, a session is ended by its opaque id by its owner only, "sign out
//! everywhere else" ends the others; each sign-in and failed attempt lands in every cluster the
//! person belongs to at that moment (not one they join later, not another person's cluster)
//! and in their own security log.

mod common;

use common::{TestDb, person};
use control::auth::token::hash_token;
use control::store::sessions;
use control::{Actor, Base, ClientInfo, DomainError, clock};
use proto::api::{CreateInviteRequest, Event, EventFilter, Role};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const PASSWORD: &str = "correct horse battery";

fn from(ip: &str, user_agent: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.into()),
        user_agent: Some(user_agent.into()),
    }
}

/// Signs `email` in from `client`: the new session's actor and its token.
async fn sign_in(base: &Base, email: &str, client: ClientInfo) -> (Actor, String) {
    let done = base
        .login(email, PASSWORD, &client)
        .await
        .unwrap()
        .signed_in()
        .expect("no two-factor on this account");
    let actor = base
        .authenticate(&done.session.token, client)
        .await
        .unwrap();
    (actor, done.session.token)
}

async fn sessions_are_listed_touched_and_ended_by_their_owner(db: &TestDb) {
    let base = db.base(true);
    let (first, _, _) = person(&base, "ana@example.com").await;
    let (laptop, laptop_token) = sign_in(&base, "ana@example.com", from("10.0.0.2", FIREFOX)).await;
    let (phone, phone_token) = sign_in(&base, "ana@example.com", from("10.0.0.3", "curl/8")).await;
    let (bo, _, _) = person(&base, "bo@example.com").await;

    let list = base.list_sessions(&laptop).await.unwrap().sessions;
    assert_eq!(list.len(), 3, "{list:?}");
    let current: Vec<_> = list.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1, "{list:?}");
    assert_eq!(current[0].device, "Firefox 128 on Linux");
    assert_eq!(current[0].ip.as_deref(), Some("10.0.0.2"));
    assert!(current[0].last_used_at.is_some(), "authenticating used it");
    assert!(list.iter().all(|s| s.id.starts_with("ses_")), "{list:?}");
    assert!(
        list.iter().all(|s| s.id != hash_token(&laptop_token)
            && !s.id.contains(&hash_token(&laptop_token)[..16])),
        "ids are not the token hash"
    );

    // The last use is written once a minute at most.
    let now = clock::now_ms();
    let phone_hash = hash_token(&phone_token);
    let pool = db.store.pool();
    assert!(
        !sessions::touch(pool, &phone_hash, now, now - 60_000)
            .await
            .unwrap()
    );
    assert!(
        sessions::touch(pool, &phone_hash, now + 61_000, now + 1_000)
            .await
            .unwrap()
    );
    let live = sessions::live(pool, &phone_hash, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.last_used_at, Some(now + 61_000));
    assert_eq!(live.user.email, "ana@example.com");

    // Ended by id: by its owner only, once.
    let phone_id = list
        .iter()
        .find(|s| s.ip.as_deref() == Some("10.0.0.3"))
        .unwrap()
        .id
        .clone();
    let err = base.revoke_session(&bo, &phone_id).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
    base.revoke_session(&laptop, &phone_id).await.unwrap();
    assert!(base.credential_live(&phone).await.is_err());
    let err = base.revoke_session(&laptop, &phone_id).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
    assert!(
        base.authenticate(&phone_token, ClientInfo::default())
            .await
            .is_err()
    );

    // Everywhere else: the first session ends, the laptop stays, Bo's is untouched.
    let done = base.revoke_other_sessions(&laptop).await.unwrap();
    assert_eq!(done.revoked, 1);
    assert!(base.credential_live(&first).await.is_err());
    base.credential_live(&laptop).await.unwrap();
    base.credential_live(&bo).await.unwrap();
    let left = base.list_sessions(&laptop).await.unwrap().sessions;
    assert_eq!(left.len(), 1);
    assert!(left[0].current);

    let log: Vec<String> = base
        .account_events(&laptop, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        &log[..2],
        ["session.revoke_others", "session.revoke"],
        "{log:?}"
    );
    assert!(
        !base
            .account_events(&bo, 50)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action.starts_with("session."))
    );
}
on_both_backends!(
    listed_and_ended,
    sessions_are_listed_touched_and_ended_by_their_owner
);

/// `inviter` invites Bo into `cluster` as a Member and Bo accepts.
async fn invite_bo(base: &Base, inviter: &Actor, cluster: &str, bo: &Actor) {
    let req = CreateInviteRequest {
        email: "bo@example.com".into(),
        role: Role::Member,
    };
    let made = base.create_invite(inviter, cluster, req).await.unwrap();
    let token = made.invite_url.rsplit('/').next().unwrap();
    base.accept_invite(bo, token).await.unwrap();
}

/// The sign-ins and failed attempts of `user` in `cluster`'s events, as `actor` reads them.
async fn sign_ins_of(base: &Base, actor: &Actor, cluster: &str, user: &str) -> Vec<Event> {
    let page = base
        .event_page(actor, cluster, &EventFilter::default(), 500)
        .await
        .unwrap();
    page.events
        .into_iter()
        .filter(|e| e.action.starts_with("user.login"))
        .filter(|e| e.actor_id.as_deref() == Some(user) || e.target.as_deref() == Some(user))
        .collect()
}

async fn sign_ins_land_in_the_clusters_of_the_moment(db: &TestDb) {
    let base = db.base(true);
    let (ana, _, ana_cluster) = person(&base, "ana@example.com").await;
    let (bo, bo_id, bo_cluster) = person(&base, "bo@example.com").await;
    let (cy, _, cy_cluster) = person(&base, "cy@example.com").await;
    invite_bo(&base, &ana, &ana_cluster, &bo).await;

    sign_in(&base, "bo@example.com", from("10.0.0.9", FIREFOX)).await;
    let wrong = base
        .login(
            "bo@example.com",
            "not the password",
            &from("10.0.0.66", FIREFOX),
        )
        .await;
    assert!(
        matches!(wrong, Err(DomainError::Unauthorized(_))),
        "{wrong:?}"
    );
    let nobody = base
        .login(
            "nobody@example.com",
            "not the password",
            &ClientInfo::default(),
        )
        .await;
    assert!(nobody.is_err());

    // Bo joins Cy's cluster only now: his earlier sign-in is none of its business.
    invite_bo(&base, &cy, &cy_cluster, &bo).await;

    for (actor, cluster) in [(ana.clone(), ana_cluster.clone()), (bo.clone(), bo_cluster)] {
        let seen = sign_ins_of(&base, &actor, &cluster, &bo_id).await;
        let actions: Vec<&str> = seen.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.login_failed", "user.login"], "{cluster}");
        assert_eq!(seen[1].ip.as_deref(), Some("10.0.0.9"));
        assert_eq!(seen[1].details["device"], "Firefox 128 on Linux");
        assert_eq!(seen[0].ip.as_deref(), Some("10.0.0.66"));
        assert_eq!(seen[0].actor_id, None);
    }
    assert!(
        sign_ins_of(&base, &cy, &cy_cluster, &bo_id)
            .await
            .is_empty()
    );
    let anyone_failed = base
        .event_page(&ana, &ana_cluster, &EventFilter::default(), 500)
        .await
        .unwrap()
        .events
        .into_iter()
        .filter(|e| e.details["email"] == "nobody@example.com")
        .count();
    assert_eq!(anyone_failed, 0, "an unknown email is in no cluster");

    let own: Vec<String> = base
        .account_events(&bo, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("user.login"))
        .collect();
    assert!(
        own.starts_with(&["user.login_failed".to_string(), "user.login".to_string()]),
        "{own:?}"
    );
    let ana_own = base.account_events(&ana, 50).await.unwrap();
    assert!(
        ana_own.iter().all(|e| e.action != "user.login_failed"),
        "{ana_own:?}"
    );
}
on_both_backends!(sign_ins, sign_ins_land_in_the_clusters_of_the_moment);
