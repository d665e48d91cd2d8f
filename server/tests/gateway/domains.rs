//! An unverified domain serves nothing: a real Base and gateway, a real dployrd with its
//! ingress, a service deployed with a pending custom domain: the ingress answers 404 for that
//! Host while the default host serves. Verified through a real DNS answer, Base sends the
//! instance `Command::Domains` with the host and dployrd routes it at once; the next
//! deployment's order carries it too; removed, it is unrouted at once. With an agent driven by
//! the test: the exact `Command::Domains` sent on verify, and a `CertReport` shown on the domain.

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
    assert_eq!(sent.outcome, "ok", "{sent:?}");
    // Routed at once, without a deployment.
    assert_eq!(d.get("shop.example.com").await.unwrap(), (200, "v1".into()));

    // The next deployment's order carries the verified host.
    repo.commit(&files(&node_app("v2")), "v2");
    d.live(&d.deploy(&svc).await).await;
    assert_eq!(d.get("shop.example.com").await.unwrap(), (200, "v2".into()));

    // Removed: routed no more, at once and after the next deployment.
    base.remove_domain(owner, &svc, "shop.example.com")
        .await
        .unwrap();
    assert_eq!(
        base.last_domains_sent(&svc).unwrap().hosts,
        Vec::<String>::new()
    );
    assert_eq!(d.get("shop.example.com").await.unwrap().0, 404);
    repo.commit(&files(&node_app("v3")), "v3");
    d.live(&d.deploy(&svc).await).await;
    assert_eq!(d.get("shop.example.com").await.unwrap().0, 404);
}

/// The exact command Base sends when a domain is verified, and an agent's certificate report
/// shown on the domain: a real gateway and an agent driven by the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_verified_hosts_go_to_the_agent_and_its_certificate_reports_show() {
    use agent::dial;
    use proto::wire::{AgentMsg, BaseMsg, CertReport, CertState, Command, Outcome};

    use crate::commands::{Gateway, PATIENCE, hand_agent};

    let gw = Gateway::start().await;
    let invite = gw.invite("by-hand").await;
    let (mut ws, _dir) = hand_agent(&invite).await;
    gw.wait_online(&invite.instance_id, true).await;
    let req = serde_json::from_value(serde_json::json!({
        "name": "shop", "instance_id": invite.instance_id,
        "source": {"git": {"url": "https://example.com/shop.git"}},
        "domains": ["cert.example.com"],
    }))
    .unwrap();
    let svc = gw
        .base
        .create_service(&gw.owner, &gw.cluster, req)
        .await
        .unwrap()
        .id;
    let pending = gw.base.list_domains(&gw.owner, &svc).await.unwrap().domains;
    gw.dns
        .set_txt("_dployr.cert.example.com", &pending[0].verification);

    // Verify answers once the agent acked the routing (or the command timed out).
    let (base, owner, id) = (gw.base.clone(), gw.owner.clone(), svc.clone());
    let verify =
        tokio::spawn(async move { base.verify_domain(&owner, &id, "cert.example.com").await });
    let (cmd_id, sent) = tokio::time::timeout(PATIENCE, async {
        loop {
            match dial::recv(&mut ws).await.unwrap() {
                // A new service on an instance with a public ingress domain has its (still
                // empty) list sent at creation, racing the verification.
                Some(BaseMsg::Command {
                    id,
                    command: Command::Domains(d),
                }) if d.hosts.is_empty() => {
                    let ack = AgentMsg::Ack {
                        id,
                        outcome: Outcome::Ok,
                    };
                    dial::send(&mut ws, &ack).await.unwrap();
                }
                Some(BaseMsg::Command { id, command }) => return (id, command),
                Some(BaseMsg::Heartbeat { .. }) => continue,
                other => panic!("expected a command, got {other:?}"),
            }
        }
    })
    .await
    .expect("Base sends the verified domain");
    let Command::Domains(domains) = sent else {
        panic!("expected Command::Domains, got {sent:?}");
    };
    assert_eq!(domains.service_id.as_str(), svc);
    assert_eq!(domains.hosts, ["cert.example.com"]);
    assert!(!domains.hsts);
    dial::send(
        &mut ws,
        &AgentMsg::Ack {
            id: cmd_id,
            outcome: Outcome::Ok,
        },
    )
    .await
    .unwrap();
    let verified = verify.await.unwrap().unwrap();
    assert_eq!(verified.status, DomainStatus::Verified);
    assert_eq!(gw.base.last_domains_sent(&svc).unwrap().outcome, "ok");

    let report = CertReport {
        domain: "cert.example.com".into(),
        state: CertState::Failed {
            reason: "urn:ietf:params:acme:error:connection: Connection refused".into(),
            retry_at_ms: 1_900_000_000_000,
        },
    };
    dial::send(&mut ws, &AgentMsg::Certificate(report))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let d = &gw.base.list_domains(&gw.owner, &svc).await.unwrap().domains[0];
        if let Some(reason) = &d.certificate.reason {
            assert_eq!(d.certificate.status, proto::api::CertificateStatus::Failed);
            assert!(reason.contains("Connection refused"), "{reason}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the report never showed: {d:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
