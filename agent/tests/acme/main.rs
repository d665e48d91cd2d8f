//! dployrd's ACME client against a real ACME server, Debian's pebble: certificates through
//! HTTP-01 and TLS-ALPN-01 served by name to a client trusting only pebble's root, the account
//! kept across restarts, renewal of short-lived certificates, and a CA outage that leaves the
//! old certificate serving until a retry succeeds.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::{SystemTime, UNIX_EPOCH};

use agent::acme::{ChallengeKind, ExternalAccount};
use proto::wire::domains::CertState;
use support::{DOMAIN, World, issued, next_report};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const DAY_MS: i64 = 86_400_000;

async fn certificate_by(challenge: ChallengeKind) {
    let world = World::start(None).await;
    let (acme, mut reports) = world.acme(world.options(challenge));
    acme.ensure(DOMAIN);
    let expires = issued(&mut reports, &world.pebble, DOMAIN).await;
    assert!(expires > now_ms() + 30 * DAY_MS, "expires at {expires}");
    let info = world.ingress.certs.info(DOMAIN).expect("installed");
    assert_eq!(info.not_after_ms, expires);
    assert!(!info.uploaded);
    let (body, _) = world.fetch(DOMAIN).await;
    assert_eq!(body, format!("hello {DOMAIN}"));
    let account = world.data.path().join("acme/account.json");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&account), 0o600);
    assert_eq!(mode(account.parent().unwrap()), 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_gets_a_certificate_served_by_name() {
    certificate_by(ChallengeKind::Http01).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_gets_a_certificate_served_by_name() {
    certificate_by(ChallengeKind::TlsAlpn01).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_is_reused_after_a_restart_and_replaced_for_another_directory() {
    let world = World::start(None).await;
    let options = world.options(ChallengeKind::Http01);
    let account = world.data.path().join("acme/account.json");
    {
        let (acme, mut reports) = world.acme(options.clone());
        acme.ensure("one.dployr.test");
        issued(&mut reports, &world.pebble, "one.dployr.test").await;
    }
    let first = std::fs::read_to_string(&account).unwrap();
    {
        let (acme, mut reports) = world.acme(options.clone());
        acme.ensure("two.dployr.test");
        issued(&mut reports, &world.pebble, "two.dployr.test").await;
    }
    assert_eq!(
        std::fs::read_to_string(&account).unwrap(),
        first,
        "a new account was made"
    );
    // The same pebble by another URL is another directory to dployrd: a new account.
    let mut other = options.clone();
    other.directory = format!("https://localhost:{}/dir", world.pebble.listen);
    let (acme, mut reports) = world.acme(other);
    acme.ensure("three.dployr.test");
    issued(&mut reports, &world.pebble, "three.dployr.test").await;
    let second = std::fs::read_to_string(&account).unwrap();
    assert_ne!(second, first);
    assert!(second.contains("localhost"), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_certificate_is_renewed() {
    let world = World::start(Some(6)).await;
    let (acme, mut reports) = world.acme(world.options(ChallengeKind::Http01));
    acme.ensure(DOMAIN);
    let first_expiry = issued(&mut reports, &world.pebble, DOMAIN).await;
    let (_, first) = world.fetch(DOMAIN).await;
    // Pebble honours certificateValidityPeriod: renewal is due after 4 s, not in years.
    let info = world.ingress.certs.info(DOMAIN).unwrap();
    let lifetime = info.not_after_ms - info.not_before_ms;
    assert!(
        (5_000..=7_000).contains(&lifetime),
        "lifetime {lifetime} ms"
    );
    let second_expiry = issued(&mut reports, &world.pebble, DOMAIN).await;
    assert!(second_expiry > first_expiry);
    let (body, second) = world.fetch(DOMAIN).await;
    assert_ne!(first, second, "the same certificate is still served");
    assert_eq!(body, format!("hello {DOMAIN}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_outage_keeps_the_old_certificate_and_the_retry_succeeds() {
    let mut world = World::start(Some(15)).await;
    let (acme, mut reports) = world.acme(world.options(ChallengeKind::Http01));
    acme.ensure(DOMAIN);
    issued(&mut reports, &world.pebble, DOMAIN).await;
    let old_root = world.pebble.issuing_root().await;
    let (_, old) = world.fetch(DOMAIN).await;
    world.pebble.kill();
    let report = next_report(&mut reports, &world.pebble).await;
    let CertState::Failed {
        reason,
        retry_at_ms,
    } = report.state
    else {
        panic!("expected a failure while pebble is down, got {report:?}");
    };
    assert!(reason.contains("onnect"), "reason: {reason}");
    assert!(retry_at_ms > now_ms(), "retry at {retry_at_ms}");
    let (_, served) = world.fetch_trusting(DOMAIN, old_root).await;
    assert_eq!(served, old, "the old certificate must keep serving");
    // A new pebble (new roots, no accounts) at the same address: the retry gets a certificate.
    world.pebble.restart().await;
    let retried = tokio::time::timeout(support::DEADLINE, async {
        loop {
            let report = next_report(&mut reports, &world.pebble).await;
            if let CertState::Issued { .. } = report.state {
                return;
            }
        }
    });
    retried
        .await
        .expect("no certificate after pebble came back");
    let (_, new) = world.fetch(DOMAIN).await;
    assert_ne!(new, old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_validation_reports_the_cas_reason_and_a_retry_time() {
    let world = World::start(None).await;
    world.ingress.stop_http();
    let (acme, mut reports) = world.acme(world.options(ChallengeKind::Http01));
    let before = now_ms();
    acme.ensure(DOMAIN);
    let report = next_report(&mut reports, &world.pebble).await;
    let CertState::Failed {
        reason,
        retry_at_ms,
    } = report.state
    else {
        panic!("HTTP-01 cannot succeed without an HTTP server, got {report:?}");
    };
    assert!(
        reason.contains("urn:ietf:params:acme:error:connection"),
        "reason: {reason}"
    );
    // The first retry: half a second (halved at most by jitter) after the failure.
    assert!(
        retry_at_ms >= before + 250,
        "retry at {retry_at_ms}, failed after {before}"
    );
    assert!(world.ingress.certs.info(DOMAIN).is_none());
    // It does retry, and fails again the same way.
    let again = next_report(&mut reports, &world.pebble).await;
    assert!(matches!(again.state, CertState::Failed { .. }), "{again:?}");
    assert!(now_ms() >= retry_at_ms - 50, "retried before its time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_certificate_is_never_ordered_over() {
    let world = World::start(None).await;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["mine.dployr.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let certs = &world.ingress.certs;
    let uploaded = certs
        .install("mine.dployr.test", &cert.pem(), &key.serialize_pem(), true)
        .unwrap();
    let (acme, mut reports) = world.acme(world.options(ChallengeKind::Http01));
    acme.ensure("mine.dployr.test");
    acme.ensure(DOMAIN);
    issued(&mut reports, &world.pebble, DOMAIN).await;
    assert_eq!(certs.info("mine.dployr.test"), Some(uploaded));
    assert!(
        reports.try_recv().is_err(),
        "the uploaded domain was reported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_that_never_answers_fails_the_order_in_time() {
    // Accepts connections and says nothing: the TLS handshake never completes.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            open.push(tcp);
        }
    });
    let data = tempfile::tempdir().unwrap();
    let certs = agent::ingress::certs::Certificates::open(data.path().join("certs")).unwrap();
    let mut options = agent::acme::AcmeOptions::new(data.path().join("acme"));
    options.directory = format!("https://127.0.0.1:{port}/dir");
    options.timings.order_timeout = std::time::Duration::from_secs(1);
    let (tx, mut reports) = tokio::sync::mpsc::unbounded_channel();
    let acme = agent::acme::Acme::start(options, certs, tx);
    acme.ensure(DOMAIN);
    let report = tokio::time::timeout(support::DEADLINE, reports.recv())
        .await
        .expect("no report from an order against a silent CA")
        .unwrap();
    let CertState::Failed { reason, .. } = report.state else {
        panic!("expected a failure, got {report:?}");
    };
    assert!(
        reason.contains("did not finish within 1s"),
        "reason: {reason}"
    );
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_abandons_an_order_under_way_and_withdraws_its_answer() {
    let world = World::with_stand_in().await;
    let mut tokens = world.ingress.hold_http01();
    let (acme, mut reports) = world.acme(world.options(ChallengeKind::Http01));
    acme.ensure(DOMAIN);
    // Pebble is fetching the challenge: the order is waiting for its validation.
    let token = tokio::time::timeout(support::DEADLINE, tokens.recv())
        .await
        .expect("pebble never asked for the HTTP-01 answer")
        .unwrap();
    let certs = &world.ingress.certs;
    assert!(
        certs.http01(&token).is_some(),
        "the answer is served while validating"
    );
    acme.forget(DOMAIN);
    let deadline = tokio::time::Instant::now() + support::DEADLINE;
    while certs.http01(&token).is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the answer was not withdrawn"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The abandoned order neither reports nor holds up the next domain's.
    world.ingress.release_http01();
    acme.ensure("next.dployr.test");
    issued(&mut reports, &world.pebble, "next.dployr.test").await;
    assert!(certs.info(DOMAIN).is_none());
    assert!(reports.try_recv().is_err(), "the forgotten domain reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_that_requires_external_account_binding_refuses_without_it_and_issues_with_it() {
    let mut world = World::start(None).await;
    // A 32-byte HMAC key, base64url as ZeroSSL's dashboard shows one.
    const KEY: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    world.pebble.require_eab("dployr-kid", KEY).await;

    let (acme, mut reports) = world.acme(world.options(ChallengeKind::Http01));
    acme.ensure(DOMAIN);
    let report = next_report(&mut reports, &world.pebble).await;
    let CertState::Failed { reason, .. } = report.state else {
        panic!("issued without an external account: {report:?}");
    };
    assert!(
        reason.contains("externalAccountRequired"),
        "reason: {reason}"
    );
    drop(acme);

    let mut options = world.options(ChallengeKind::Http01);
    use base64::Engine;
    let hmac_key = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(KEY)
        .unwrap();
    options.eab = Some(ExternalAccount {
        kid: "dployr-kid".into(),
        hmac_key,
    });
    let (acme, mut reports) = world.acme(options);
    acme.ensure(DOMAIN);
    issued(&mut reports, &world.pebble, DOMAIN).await;
    let (body, _) = world.fetch(DOMAIN).await;
    assert_eq!(body, format!("hello {DOMAIN}"));
}
