//! Guests read the audit log without what the matrix keeps from them (audit finding L4), on
//! SQLite and PostgreSQL: no member emails, no IPs, no variable names; Owners still see all.

mod common;

use common::{TestDb, owner_with_service, person};
use control::store::memberships;
use control::{Actor, Base, clock};
use proto::api::{CreateInviteRequest, Event, EventFilter, Role, SetEnvRequest};

async fn everything(base: &Base, who: &Actor, cluster: &str) -> Vec<Event> {
    let mut events = base
        .event_page(who, cluster, &EventFilter::default(), 500)
        .await
        .unwrap()
        .events;
    events.extend(
        base.cluster_overview(who, cluster)
            .await
            .unwrap()
            .recent_events,
    );
    events
}

async fn l4_guests_see_events_without_emails_or_ips(db: &TestDb) {
    let base = db.base(true);
    let (ana, svc) = owner_with_service(&base).await;
    let cluster = base.list_clusters(&ana).await.unwrap()[0].id.clone();
    let mut from_home = ana.clone();
    from_home.client.ip = Some("203.0.113.9".into());
    let req = CreateInviteRequest {
        email: "cy@example.com".into(),
        role: Role::Member,
    };
    base.create_invite(&from_home, &cluster, req).await.unwrap();
    let secret = SetEnvRequest {
        value: "hunter2".into(),
        secret: true,
    };
    base.set_env(&from_home, &svc, "STRIPE_KEY", secret)
        .await
        .unwrap();
    let (gus, gus_id, _) = person(&base, "gus@example.com").await;
    memberships::insert(
        db.store.pool(),
        &cluster,
        &gus_id,
        Role::Guest,
        clock::now_ms(),
    )
    .await
    .unwrap();

    let guest_sees = everything(&base, &gus, &cluster).await;
    assert!(guest_sees.iter().any(|e| e.action == "member.invite"));
    assert!(guest_sees.iter().any(|e| e.action == "env.set"));
    for e in &guest_sees {
        let text = serde_json::to_string(e).unwrap();
        assert!(!text.contains('@'), "an email shown to a Guest: {text}");
        assert!(
            !text.contains("203.0.113.9"),
            "an IP shown to a Guest: {text}"
        );
        assert!(
            !text.contains("STRIPE_KEY"),
            "a variable name shown to a Guest: {text}"
        );
        assert_eq!(e.ip, None);
    }
    let owner_sees = everything(&base, &ana, &cluster).await;
    let text = serde_json::to_string(&owner_sees).unwrap();
    for shown in ["cy@example.com", "203.0.113.9", "STRIPE_KEY"] {
        assert!(text.contains(shown), "the Owner no longer sees {shown}");
    }
}
on_both_backends!(l4, l4_guests_see_events_without_emails_or_ips);
