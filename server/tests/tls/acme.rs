//! `--tls acme` against a real ACME CA (Debian's pebble, validating through a DNS responder
//! that says every name is 127.0.0.1): Base gets a certificate for its public host by HTTP-01
//! (answered on its plain listener) and by TLS-ALPN-01 (answered on its HTTPS listener), and a
//! client that trusts only pebble's root signs in over HTTPS.

use std::os::unix::fs::PermissionsExt;

use agent::acme::ChallengeKind;
use server::tls::TlsMode;

use crate::support::{
    Bound, HOST, config, https_client, run, set_cookie, signup, url, wait_healthy,
};
use testkit::dns::DnsServer;
use testkit::pebble::Pebble;

async fn certificate_by(challenge: ChallengeKind) {
    let dir = tempfile::tempdir().unwrap();
    let bound = Bound::new(challenge == ChallengeKind::Http01).await;
    let dns = DnsServer::start();
    dns.set_a(HOST, std::net::Ipv4Addr::LOCALHOST);
    // pebble validates HTTP-01 on the plain listener's port and TLS-ALPN-01 on Base's own.
    let http_port = bound.plain_port().unwrap_or(1);
    let pebble = Pebble::start(http_port, bound.port(), dns.addr(), None).await;
    let mut config = config(&dir, &format!("https://{HOST}:{}", bound.port()));
    config.tls.mode = TlsMode::Acme;
    config.tls.acme_directory = Some(pebble.directory());
    config.tls.acme_ca_root = Some(pebble.https_root.clone());
    config.tls.acme_email = Some("ops@example.com".into());
    config.tls.acme_challenge = challenge;
    config.tls.http_listen = bound.plain.as_ref().map(|l| l.local_addr().unwrap());
    let base = run(config, bound, dir);

    let root = pebble.issuing_root().await;
    let client = https_client(base.addr, &root);
    wait_healthy(&client, &base, || format!("pebble said:\n{}", pebble.log())).await;

    let origin = url(base.addr, "");
    let r = signup(&client, &origin, &origin).await;
    assert_eq!(r.status(), 201);
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("__Host-dployr_session="), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let me = client
        .get(url(base.addr, "/api/v1/me"))
        .header("Cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(me.headers().contains_key("strict-transport-security"));

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tls = base.data_dir.join("tls");
    assert_eq!(mode(&tls), 0o700);
    assert_eq!(mode(&tls.join("certs").join(HOST).join("key.pem")), 0o600);
    assert_eq!(mode(&tls.join("acme/account.json")), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acme_http01_gets_base_a_certificate_and_a_pebble_trusting_client_signs_in() {
    certificate_by(ChallengeKind::Http01).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acme_tls_alpn01_gets_base_a_certificate_on_its_own_listener() {
    certificate_by(ChallengeKind::TlsAlpn01).await;
}
