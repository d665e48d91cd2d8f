//! An unverified domain serves nothing: a real Base and gateway, a real dployrd with its
//! ingress, a service deployed with a pending custom domain: the ingress answers 404 for that
//! Host while the default host serves. Verified through a real DNS answer, Base sends the
//! instance `Command::Domains` with the host (this branch's dployrd refuses it: "does not manage
//! domains yet", which Base records and logs, failing nothing), and the next deployment's order
//! carries the verified host, so the ingress routes it.

use proto::api::{AddDomainRequest, DomainStatus};

use crate::deploy::{Deployer, Repo, files, git_source, node_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_an_unverified_domain_serves_nothing_until_verified() {
    let d = Deployer::start().await;
    let repo = Repo::new();
    repo.commit(&files(&node_app("v1")), "v1");
    let svc = d
        .service(
            "shop",
            git_source(&repo),
            serde_json::json!({"domains": ["shop.example.com"]}),
        )
        .await;
    let (base, owner) = (&d.gw.base, &d.gw.owner);
    let listed = base.list_domains(owner, &svc).await.unwrap().domains;
    assert_eq!(listed[0].status, DomainStatus::Pending);

    d.live(&d.deploy(&svc).await).await;
    assert_eq!(d.get("shop.test").await.unwrap(), (200, "v1".into()));
    let (status, _) = d.get("shop.example.com").await.unwrap();
    assert_eq!(status, 404, "a pending domain must not be routed");

    // Held already (pending counts): adding it again is a conflict.
    let other = base
        .add_domain(
            owner,
            &svc,
            AddDomainRequest {
                name: "shop.example.com".into(),
                hsts: false,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(other, control::DomainError::Conflict(_)),
        "{other:?}"
    );

    d.verify_domain(&svc, "shop.example.com").await;
    let sent = base
        .last_domains_sent(&svc)
        .expect("Base sent the service's domains");
    assert_eq!(sent.hosts, ["shop.example.com"]);
    // MERGE NOTE: with the "tls" helper's dployrd this is "ok" and the host is routed at once;
    // this branch's dployrd refuses the command, and Base only logs that.
    assert!(
        sent.outcome == "ok" || sent.outcome.contains("does not manage domains yet"),
        "{sent:?}"
    );

    // The next deployment's order carries the verified host.
    repo.commit(&files(&node_app("v2")), "v2");
    d.live(&d.deploy(&svc).await).await;
    assert_eq!(d.get("shop.example.com").await.unwrap(), (200, "v2".into()));

    // Removed: routed no more after the next deployment (and at once with a dployrd that takes
    // `Command::Domains`).
    base.remove_domain(owner, &svc, "shop.example.com")
        .await
        .unwrap();
    assert_eq!(
        base.last_domains_sent(&svc).unwrap().hosts,
        Vec::<String>::new()
    );
    repo.commit(&files(&node_app("v3")), "v3");
    d.live(&d.deploy(&svc).await).await;
    assert_eq!(d.get("shop.example.com").await.unwrap().0, 404);
}
