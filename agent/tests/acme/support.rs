//! What the ACME tests run against: a real pebble (`testkit::pebble`), the DNS server it
//! resolves the test hosts with (`testkit::dns`), dployrd's ingress answering its challenges from
//! [`Certificates`] ([`ingress`]), and helpers to wait for reports and fetch over HTTPS.

pub mod ingress;

use std::time::Duration;

use agent::acme::{Acme, AcmeOptions, ChallengeKind, Timings};
use agent::ingress::certs::Certificates;
use proto::wire::domains::{CertReport, CertState};
use rustls::pki_types::CertificateDer;
use tokio::sync::mpsc;

pub use ingress::Ingress;
use testkit::dns::DnsServer;
pub use testkit::pebble::{self, Pebble};

/// Every wait on a condition gives up after this.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub const DOMAIN: &str = "app.dployr.test";

/// Pebble, its DNS, the stand-in ingress and a data dir (certificates, the ACME account).
pub struct World {
    pub data: tempfile::TempDir,
    pub ingress: Ingress,
    pub pebble: Pebble,
    _dns: DnsServer,
}

impl World {
    /// Pebble issuing certificates valid `validity_s` seconds (its 5 years when `None`),
    /// validating against dployrd's real ingress.
    pub async fn start(validity_s: Option<u64>) -> World {
        Self::with(validity_s, false).await
    }

    /// With the stand-in ingress, which can hold HTTP-01 requests.
    pub async fn with_stand_in() -> World {
        Self::with(None, true).await
    }

    async fn with(validity_s: Option<u64>, stand_in: bool) -> World {
        let data = tempfile::tempdir().unwrap();
        let certs = Certificates::open(data.path().join("certs")).unwrap();
        let ingress = if stand_in {
            Ingress::start(certs).await
        } else {
            Ingress::real(certs).await
        };
        let dns = DnsServer::start();
        for host in ingress::HOSTS {
            dns.set_a(host, std::net::Ipv4Addr::LOCALHOST);
        }
        let pebble = Pebble::start(
            ingress.http.port(),
            ingress.https.port(),
            dns.addr(),
            validity_s,
        )
        .await;
        World {
            data,
            ingress,
            pebble,
            _dns: dns,
        }
    }

    /// Options for this pebble with quick retries (half a second doubling to two).
    pub fn options(&self, challenge: ChallengeKind) -> AcmeOptions {
        let mut options = AcmeOptions::new(self.data.path().join("acme"));
        options.directory = self.pebble.directory();
        options.ca_root = Some(self.pebble.https_root.clone());
        options.challenge = challenge;
        options.timings = Timings {
            backoff_first: Duration::from_millis(500),
            backoff_max: Duration::from_secs(2),
            order_timeout: Duration::from_secs(20),
            renew_jitter: 0.0,
            ..Timings::default()
        };
        options
    }

    /// An [`Acme`] on this world's certificates, and its reports.
    pub fn acme(&self, options: AcmeOptions) -> (Acme, mpsc::UnboundedReceiver<CertReport>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Acme::start(options, self.ingress.certs.clone(), tx), rx)
    }

    /// `GET /` over HTTPS by `host` from the ingress, trusting only pebble's current
    /// root: the body and the serial of the certificate served.
    pub async fn fetch(&self, host: &str) -> (String, Vec<u8>) {
        let root = self.pebble.issuing_root().await;
        self.fetch_trusting(host, root).await
    }

    pub async fn fetch_trusting(
        &self,
        host: &str,
        root: CertificateDer<'static>,
    ) -> (String, Vec<u8>) {
        let (status, body, leaf) = pebble::https_get(self.ingress.https.port(), host, root, "/")
            .await
            .unwrap_or_else(|e| panic!("HTTPS to {host}: {e}"));
        assert_eq!(status, 200, "{body}");
        (body, serial(&leaf))
    }
}

/// The next report, within the deadline (pebble's log on timeout).
pub async fn next_report(
    reports: &mut mpsc::UnboundedReceiver<CertReport>,
    pebble: &Pebble,
) -> CertReport {
    match tokio::time::timeout(DEADLINE, reports.recv()).await {
        Ok(Some(report)) => report,
        Ok(None) => panic!("the report channel closed"),
        Err(_) => panic!(
            "no certificate report in {DEADLINE:?}; pebble said:\n{}",
            pebble.log()
        ),
    }
}

/// Waits for `domain`'s `Issued` report and returns its expiry; panics on a failure report.
pub async fn issued(
    reports: &mut mpsc::UnboundedReceiver<CertReport>,
    pebble: &Pebble,
    domain: &str,
) -> i64 {
    let report = next_report(reports, pebble).await;
    assert_eq!(report.domain, domain);
    match report.state {
        CertState::Issued {
            expires_at_ms,
            issuer,
        } => {
            assert!(issuer.contains("Pebble"), "issuer {issuer}");
            expires_at_ms
        }
        other => panic!(
            "expected a certificate for {domain}, got {other:?}\npebble:\n{}",
            pebble.log()
        ),
    }
}

/// A certificate's serial number.
pub fn serial(cert: &CertificateDer<'_>) -> Vec<u8> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).unwrap();
    parsed.raw_serial().to_vec()
}
