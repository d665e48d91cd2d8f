//! A service's own domain over HTTPS, the whole way: a real Base, a real dployrd with its HTTP
//! and HTTPS ingress and ACME pointed at a real CA (Debian's pebble), a Node app deployed with a
//! custom domain. Verified through a real DNS answer, Base sends dployrd the domain; dployrd
//! orders a certificate (HTTP-01 answered by its plain listener, or TLS-ALPN-01 by its HTTPS
//! one), reports it, Base shows it issued, and a client that trusts only pebble's root gets the
//! app over HTTPS by that name.

use std::net::Ipv4Addr;
use std::time::Duration;

use agent::acme::{AcmeOptions, ChallengeKind, Timings};
use proto::api::CertificateStatus;
use testkit::pebble::{Pebble, https_get};

use crate::commands::Gateway;
use crate::deploy::{Deployer, Repo, files, git_source, node_app};
use crate::harness::RunningAgent;

const DOMAIN: &str = "shop.example.com";

/// The port dployrd wrote to `file` in its data dir.
fn port_in(agent: &RunningAgent, file: &str) -> u16 {
    let addr = std::fs::read_to_string(agent.data.path().join(file)).expect(file);
    addr.trim().parse::<std::net::SocketAddr>().unwrap().port()
}

/// A Base, pebble, and a dployrd with HTTP and HTTPS ingress and ACME at pebble by `challenge`,
/// its services' default hosts under `ingress_domain`.
struct WithAcme {
    d: Deployer,
    pebble: Pebble,
    http_port: u16,
    https_port: u16,
}

async fn with_acme(challenge: ChallengeKind, ingress_domain: &str) -> WithAcme {
    let gw = Gateway::start().await;
    let mut pebble = Pebble::prepare(gw.dns.addr(), None);
    let invite = gw.invite("web-1").await;
    let (directory, ca_root) = (pebble.directory(), pebble.https_root.clone());
    let agent = RunningAgent::join_and_run_options(&invite, |data| {
        let mut acme = AcmeOptions::new(data.path().join("acme"));
        acme.directory = directory;
        acme.ca_root = Some(ca_root);
        acme.challenge = challenge;
        acme.timings = Timings {
            backoff_first: Duration::from_millis(500),
            backoff_max: Duration::from_secs(2),
            order_timeout: Duration::from_secs(20),
            ..Timings::default()
        };
        agent::run::RunOptions {
            https_listen: Some("127.0.0.1:0".parse().unwrap()),
            ingress_domain: ingress_domain.into(),
            acme: Some(acme),
            ..RunningAgent::test_options()
        }
    })
    .await;
    gw.wait_online(&invite.instance_id, true).await;
    let (http_port, https_port) = (
        port_in(&agent, "ingress.addr"),
        port_in(&agent, "https.addr"),
    );
    pebble.validate_on(http_port, https_port).await;
    let d = Deployer {
        gw,
        agent,
        instance: invite.instance_id,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    };
    WithAcme {
        d,
        pebble,
        http_port,
        https_port,
    }
}

async fn a_verified_domain_gets_a_certificate_by(challenge: ChallengeKind) {
    let WithAcme {
        d,
        pebble,
        http_port,
        https_port,
    } = with_acme(challenge, "test").await;
    d.gw.dns.set_a(DOMAIN, Ipv4Addr::LOCALHOST);

    let repo = Repo::new();
    repo.commit(&files(&node_app("v1")), "v1");
    let extra = serde_json::json!({"domains": [DOMAIN]});
    let svc = d.service("shop", git_source(&repo), extra).await;
    d.live(&d.deploy(&svc).await).await;
    d.verify_domain(&svc, DOMAIN).await;

    let (base, owner) = (&d.gw.base, &d.gw.owner);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let certificate = loop {
        let listed = base.list_domains(owner, &svc).await.unwrap().domains;
        let cert = listed[0].certificate.clone();
        match cert.status {
            CertificateStatus::Issued => break cert,
            CertificateStatus::Failed => panic!("{cert:?}\npebble:\n{}", pebble.log()),
            CertificateStatus::None => {}
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no certificate in 60 s; pebble said:\n{}",
            pebble.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(certificate.issuer.unwrap().contains("Pebble"));
    assert!(certificate.expires_at.is_some());

    let root = pebble.issuing_root().await;
    let (status, body, _) = https_get(https_port, DOMAIN, root, "/").await.unwrap();
    assert_eq!((status, body.as_str()), (200, "v1"));
    // Plain HTTP now sends that host to HTTPS.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://127.0.0.1:{http_port}/cart?x=1"))
        .header("Host", DOMAIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 308);
    assert_eq!(
        r.headers()["location"],
        format!("https://{DOMAIN}:{https_port}/cart?x=1").as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_domains_a_verified_domain_gets_a_certificate_by_http01_and_serves_the_app() {
    a_verified_domain_gets_a_certificate_by(ChallengeKind::Http01).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_domains_a_verified_domain_gets_a_certificate_by_tls_alpn01_and_serves_the_app() {
    a_verified_domain_gets_a_certificate_by(ChallengeKind::TlsAlpn01).await;
}

/// What Base last sent about `service`'s domains, once it has sent something.
async fn domains_sent(gw: &Gateway, service: &str) -> control::domains::routing::DomainsSent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(sent) = gw.base.last_domains_sent(service) {
            return sent;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Base sent {service}'s domains to nobody in 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A service's default host `<service>.<ingress domain>` gets a certificate without any domain
/// added, when the instance's ingress domain has a wildcard record (and only then: a second
/// instance whose domain has none is sent no host to certify).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_domains_a_default_host_gets_a_certificate_when_the_ingress_domain_has_a_wildcard() {
    let WithAcme {
        d,
        pebble,
        https_port,
        ..
    } = with_acme(ChallengeKind::Http01, "apps.example.net").await;
    d.gw.dns.set_a("*.apps.example.net", Ipv4Addr::LOCALHOST);
    let invite = d.gw.invite("bare-1").await;
    let _bare = RunningAgent::join_and_run_options(&invite, |_| agent::run::RunOptions {
        ingress_domain: "bare.example.net".into(),
        ..RunningAgent::test_options()
    })
    .await;
    d.gw.wait_online(&invite.instance_id, true).await;

    let repo = Repo::new();
    repo.commit(&files(&node_app("v1")), "v1");
    let svc = d
        .service("shop", git_source(&repo), serde_json::json!({}))
        .await;
    let sent = domains_sent(&d.gw, &svc).await;
    assert_eq!(sent.hosts, ["shop.apps.example.net"], "{sent:?}");
    d.live(&d.deploy(&svc).await).await;

    let root = pebble.issuing_root().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (status, body) = loop {
        // No certificate yet: the handshake fails until dployrd installs the issued one.
        match https_get(https_port, "shop.apps.example.net", root.clone(), "/").await {
            Ok((status, body, _)) => break (status, body),
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "no certificate for the default host in 60 s ({e}); pebble said:\n{}",
                pebble.log()
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((status, body.as_str()), (200, "v1"));
    // What dployrd reported shows on the service's Domains list, as a custom domain's would.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let list = d.gw.base.list_domains(&d.gw.owner, &svc).await.unwrap();
        let host = list.default_host.expect("the default host is listed");
        if host.certificate.status == proto::api::CertificateStatus::Issued {
            break host;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the issued certificate was not reported: {host:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(shown.name, "shop.apps.example.net");
    assert!(shown.wildcard);
    assert!(shown.certificate.issuer.is_some(), "{shown:?}");

    let bare =
        d.gw.base
            .create_service(
                &d.gw.owner,
                &d.gw.cluster,
                serde_json::from_value(serde_json::json!({
                    "name": "plain",
                    "instance_id": invite.instance_id,
                    "source": git_source(&repo),
                }))
                .unwrap(),
            )
            .await
            .unwrap();
    let sent = domains_sent(&d.gw, &bare.id).await;
    assert!(
        sent.hosts.is_empty(),
        "no wildcard, no host to certify: {sent:?}"
    );
}
