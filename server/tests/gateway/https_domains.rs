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

async fn a_verified_domain_gets_a_certificate_by(challenge: ChallengeKind) {
    let gw = Gateway::start().await;
    gw.dns.set_a(DOMAIN, Ipv4Addr::LOCALHOST);
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
