//! Custom domains on SQLite and PostgreSQL, verified against a real DNS server of the test's
//! own: added pending with the records to create; a Verify before the TXT record exists stays
//! pending with the reason; with the record it verifies; a name another cluster holds is a 409;
//! a Guest cannot add; the background check verifies too; a claim left unverified for a week
//! stops blocking; the database takes only known statuses. Certificates: `domain_certs.rs`.

mod common;

use common::{TestDb, actions, add, base_with_dns, owner_with_service, person};
use control::store::memberships;
use control::{DomainError, clock};
use proto::api::{CertificateStatus, CreateServiceRequest, DomainStatus, Role};
use testkit::dns::DnsServer;

async fn domains_verify_by_txt_and_stay_unique(db: &TestDb) {
    let dns = DnsServer::start();
    let base = base_with_dns(db, &dns);
    let (ana, svc) = owner_with_service(&base).await;
    let cluster = base.list_clusters(&ana).await.unwrap()[0].id.clone();

    let added = base
        .add_domain(&ana, &svc, add("App.Example.com."))
        .await
        .unwrap();
    assert_eq!(added.name, "app.example.com");
    assert_eq!(added.status, DomainStatus::Pending);
    let txt = added
        .records
        .iter()
        .find(|r| r.kind == "TXT")
        .expect("a TXT record");
    assert_eq!(txt.name, "_dployr.app.example.com");
    assert!(
        txt.value.starts_with("dployr-verify=") && txt.value.len() > 30,
        "{txt:?}"
    );
    assert_eq!(added.verification, txt.value);
    // The settings say it too, and only a verified domain would be routed.
    let shown = base.get_service(&ana, &svc).await.unwrap();
    assert_eq!(shown.spec.domains, ["app.example.com"]);

    // Before the record exists: still pending, with the reason.
    let early = base
        .verify_domain(&ana, &svc, "app.example.com")
        .await
        .unwrap();
    assert_eq!(early.status, DomainStatus::Pending);
    let why = early.last_error.expect("the reason it is not verified");
    assert!(
        why.contains("no TXT record at _dployr.app.example.com"),
        "{why}"
    );

    // A wrong value is not enough either.
    dns.set_txt("_dployr.app.example.com", "dployr-verify=someone-else");
    let wrong = base
        .verify_domain(&ana, &svc, "app.example.com")
        .await
        .unwrap();
    assert_eq!(wrong.status, DomainStatus::Pending);
    assert!(wrong.last_error.unwrap().contains("someone-else"));

    dns.set_txt("_dployr.app.example.com", &txt.value);
    let ok = base
        .verify_domain(&ana, &svc, "app.example.com")
        .await
        .unwrap();
    assert_eq!(ok.status, DomainStatus::Verified, "{ok:?}");
    assert!(ok.verified_at.is_some() && ok.last_error.is_none());

    // Another cluster cannot take it; the same cluster's other service neither.
    let (bo, _, bo_cluster) = person(&base, "bo@example.com").await;
    let inst = base.create_instance(&bo, &bo_cluster, "b-1").await.unwrap();
    let req: CreateServiceRequest = serde_json::from_value(serde_json::json!({
        "name": "web", "instance_id": inst.instance.id,
        "source": {"git": {"url": "file:///srv/web.git", "branch": "main"}},
    }))
    .unwrap();
    let bo_svc = base.create_service(&bo, &bo_cluster, req).await.unwrap();
    let taken = base
        .add_domain(&bo, &bo_svc.id, add("app.example.com"))
        .await
        .unwrap_err();
    match taken {
        DomainError::Conflict(m) => assert!(m.contains("another cluster"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Nor through the service's settings (the CLI's --domain, dployr.toml).
    let patch =
        serde_json::from_value(serde_json::json!({"domains": ["app.example.com"]})).unwrap();
    let by_settings = base
        .update_service(&bo, &bo_svc.id, patch)
        .await
        .unwrap_err();
    assert!(
        matches!(by_settings, DomainError::Conflict(_)),
        "{by_settings:?}"
    );
    assert!(
        base.list_domains(&bo, &bo_svc.id)
            .await
            .unwrap()
            .domains
            .is_empty()
    );

    // A Guest sees the domains but cannot add, verify or remove.
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
    assert_eq!(
        base.list_domains(&gus, &svc).await.unwrap().domains.len(),
        1
    );
    let denied = base
        .add_domain(&gus, &svc, add("gus.example.com"))
        .await
        .unwrap_err();
    assert!(matches!(denied, DomainError::Forbidden), "{denied:?}");
    let denied = base
        .remove_domain(&gus, &svc, "app.example.com")
        .await
        .unwrap_err();
    assert!(matches!(denied, DomainError::Forbidden), "{denied:?}");

    // Bad names are refused with the field named.
    for bad in ["*.*.example.com", "localhost", "10.0.0.1"] {
        let e = base.add_domain(&ana, &svc, add(bad)).await.unwrap_err();
        assert!(
            matches!(
                e,
                DomainError::Invalid {
                    field: "domains",
                    ..
                }
            ),
            "{bad}: {e:?}"
        );
    }

    // The background check verifies a pending domain once its record appears.
    let wild = base
        .add_domain(&ana, &svc, add("*.apps.example.com"))
        .await
        .unwrap();
    assert_eq!(wild.records[0].name, "_dployr.apps.example.com");
    assert_eq!(base.check_pending_domains().await.unwrap(), 0);
    dns.set_txt("_dployr.apps.example.com", &wild.verification);
    // Backed off after the failed check: not due yet, so not looked at.
    assert_eq!(base.check_pending_domains().await.unwrap(), 0);
    sqlx::query("UPDATE domains SET next_check_at = 0")
        .execute(db.store.pool())
        .await
        .unwrap();
    assert_eq!(base.check_pending_domains().await.unwrap(), 1);
    let listed = base.list_domains(&ana, &svc).await.unwrap().domains;
    assert!(
        listed.iter().all(|d| d.status == DomainStatus::Verified),
        "{listed:?}"
    );

    // A claim another cluster left unverified for over a week no longer blocks: Bo's pending
    // `old.example.com` goes to Ana, and Bo's cluster is told why.
    base.add_domain(&bo, &bo_svc.id, add("old.example.com"))
        .await
        .unwrap();
    let early = base
        .add_domain(&ana, &svc, add("old.example.com"))
        .await
        .unwrap_err();
    assert!(matches!(early, DomainError::Conflict(_)), "{early:?}");
    let week_ago = clock::now_ms() - control::domains::spec_sync::PENDING_CLAIM_MS - 1;
    sqlx::query(&format!(
        "UPDATE domains SET created_at = {week_ago} WHERE name = 'old.example.com'"
    ))
    .execute(db.store.pool())
    .await
    .unwrap();
    base.add_domain(&ana, &svc, add("old.example.com"))
        .await
        .unwrap();
    assert!(
        base.list_domains(&bo, &bo_svc.id)
            .await
            .unwrap()
            .domains
            .is_empty()
    );
    assert!(
        base.get_service(&bo, &bo_svc.id)
            .await
            .unwrap()
            .spec
            .domains
            .is_empty()
    );
    assert!(
        actions(&base, &bo, &bo_cluster)
            .await
            .iter()
            .any(|a| a == "domain.remove")
    );
    base.remove_domain(&ana, &svc, "old.example.com")
        .await
        .unwrap();

    // Removing frees the name for anyone.
    base.remove_domain(&ana, &svc, "app.example.com")
        .await
        .unwrap();
    assert_eq!(
        base.get_service(&ana, &svc).await.unwrap().spec.domains,
        ["*.apps.example.com"]
    );
    base.add_domain(&bo, &bo_svc.id, add("app.example.com"))
        .await
        .unwrap();

    let seen = actions(&base, &ana, &cluster).await;
    for a in ["domain.add", "domain.verify", "domain.remove"] {
        assert!(seen.iter().any(|s| s == a), "no {a} in {seen:?}");
    }
}
on_both_backends!(
    domains_verify_by_txt_and_stay_unique,
    domains_verify_by_txt_and_stay_unique
);

/// The CHECKs of migration 0014 take every status the code knows and nothing else.
async fn the_database_knows_every_domain_status(db: &TestDb) {
    let base = db.base(true);
    let (ana, svc) = owner_with_service(&base).await;
    base.add_domain(&ana, &svc, add("check.example.com"))
        .await
        .unwrap();
    let set = |col: &str| format!("UPDATE domains SET {col} = $1");
    let run = |sql: String, v: &'static str| {
        let pool = db.store.pool().clone();
        async move { sqlx::query(&sql).bind(v).execute(&pool).await.map(drop) }
    };
    for s in DomainStatus::ALL {
        run(set("status"), s.as_str()).await.unwrap();
    }
    for s in CertificateStatus::ALL {
        run(set("cert_state"), s.as_str()).await.unwrap();
    }
    assert!(run(set("status"), "stolen").await.is_err());
    assert!(run(set("cert_state"), "maybe").await.is_err());
}
on_both_backends!(
    the_database_knows_every_domain_status,
    the_database_knows_every_domain_status
);

async fn records_point_at_the_instances_default_host_once_it_says_its_domain(db: &TestDb) {
    let dns = DnsServer::start();
    let base = base_with_dns(db, &dns);
    let (ana, svc) = owner_with_service(&base).await;
    let service = base.get_service(&ana, &svc).await.unwrap();
    let before = base
        .add_domain(&ana, &svc, add("www.shop.com"))
        .await
        .unwrap();
    assert!(before.records.iter().all(|r| r.kind == "TXT"), "{before:?}");
    let host = proto::wire::HostFacts {
        ingress_domain: Some("apps.example.net".into()),
        ..proto::wire::HostFacts::detect()
    };
    base.instance_seen(&service.instance_id, "test", &host)
        .await
        .unwrap();
    let listed = base.list_domains(&ana, &svc).await.unwrap().domains;
    let cname = listed[0]
        .records
        .iter()
        .find(|r| r.kind == "CNAME")
        .expect("a CNAME once the instance said its ingress domain");
    assert_eq!(cname.name, "www.shop.com");
    assert_eq!(
        cname.value,
        format!("{}.apps.example.net", service.spec.name)
    );
}
on_both_backends!(
    cname,
    records_point_at_the_instances_default_host_once_it_says_its_domain
);
