//! Certificates of custom domains on SQLite and PostgreSQL: an uploaded one is checked for
//! shape and its key stored sealed (and resealed by a master key rotation); the instance's
//! certificate reports show on the domain with their `domain.cert_*` events, and a report from
//! an instance that does not serve the domain is ignored; a default host's reports, which have no
//! domain row, show on the Domains list the same way.

mod common;

use common::{TestDb, actions, add, base_with_dns, owner_with_service};
use control::{Base, BaseConfig, DomainError};
use proto::api::{CertificateStatus, UploadCertificateRequest};
use proto::wire::{CertReport, CertState};
use testkit::dns::DnsServer;

async fn certificates_are_sealed_and_reports_recorded(db: &TestDb) {
    let dns = DnsServer::start();
    let base = base_with_dns(db, &dns);
    let (ana, svc) = owner_with_service(&base).await;
    let cluster = base.list_clusters(&ana).await.unwrap()[0].id.clone();
    let instance = base.get_service(&ana, &svc).await.unwrap().instance_id;
    base.add_domain(&ana, &svc, add("shop.example.com"))
        .await
        .unwrap();

    let cert = rcgen::generate_simple_self_signed(vec!["shop.example.com".into()]).unwrap();
    let key = cert.key_pair.serialize_pem();
    let upload = UploadCertificateRequest {
        chain_pem: cert.cert.pem(),
        key_pem: key.clone(),
    };
    let shown = base
        .upload_certificate(&ana, &svc, "shop.example.com", upload)
        .await
        .unwrap();
    assert!(shown.certificate.uploaded);
    // Not reported serving yet (the domain is pending): the upload's own expiry and issuer.
    assert_eq!(shown.certificate.status, CertificateStatus::None);
    assert_eq!(
        shown.certificate.issuer.as_deref(),
        Some("rcgen self signed cert")
    );
    assert!(shown.certificate.expires_at.is_some());
    let stored: (String,) = sqlx::query_as("SELECT upload_key_sealed FROM domains")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    let body = key.lines().nth(1).unwrap();
    assert!(!stored.0.contains(body), "the key is stored in clear");
    let bad = UploadCertificateRequest {
        chain_pem: cert.cert.pem(),
        key_pem: "not a key".into(),
    };
    let e = base
        .upload_certificate(&ana, &svc, "shop.example.com", bad)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            DomainError::Invalid {
                field: "key_pem",
                ..
            }
        ),
        "{e:?}"
    );
    // A well-formed key of another certificate: refused before the instance would refuse it.
    let stranger = UploadCertificateRequest {
        chain_pem: cert.cert.pem(),
        key_pem: rcgen::KeyPair::generate().unwrap().serialize_pem(),
    };
    let e = base
        .upload_certificate(&ana, &svc, "shop.example.com", stranger)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not belong"), "{e:?}");

    let failed = CertReport {
        domain: "shop.example.com".into(),
        state: CertState::Failed {
            reason: "urn:ietf:params:acme:error:dns: NXDOMAIN".into(),
            retry_at_ms: 1_900_000_000_000,
        },
    };
    // From another instance: ignored.
    base.record_certificate("ins_other", &failed).await.unwrap();
    let d = &base.list_domains(&ana, &svc).await.unwrap().domains[0];
    assert_eq!(d.certificate.status, CertificateStatus::None);
    base.record_certificate(&instance, &failed).await.unwrap();
    let d = &base.list_domains(&ana, &svc).await.unwrap().domains[0];
    assert_eq!(d.certificate.status, CertificateStatus::Failed);
    assert!(
        d.certificate
            .reason
            .as_deref()
            .unwrap()
            .contains("NXDOMAIN")
    );
    let issued = CertReport {
        domain: "shop.example.com".into(),
        state: CertState::Issued {
            expires_at_ms: 1_900_000_000_000,
            issuer: "Pebble Intermediate CA".into(),
        },
    };
    base.record_certificate(&instance, &issued).await.unwrap();
    // Repeated (as after a reconnect): recorded once.
    base.record_certificate(&instance, &issued).await.unwrap();
    let d = &base.list_domains(&ana, &svc).await.unwrap().domains[0];
    assert_eq!(d.certificate.status, CertificateStatus::Issued);
    assert_eq!(
        d.certificate.issuer.as_deref(),
        Some("Pebble Intermediate CA")
    );
    assert!(
        d.certificate
            .expires_at
            .as_deref()
            .unwrap()
            .starts_with("2030-")
    );
    let seen = actions(&base, &ana, &cluster).await;
    for a in [
        "domain.cert_upload",
        "domain.cert_failed",
        "domain.cert_issued",
    ] {
        let n = seen.iter().filter(|s| *s == a).count();
        assert_eq!(n, 1, "{a} in {seen:?}");
    }
}
on_both_backends!(
    certificates_are_sealed_and_reports_recorded,
    certificates_are_sealed_and_reports_recorded
);

/// `rotate-key` reseals uploaded certificate keys with the secrets.
async fn uploaded_keys_are_resealed_on_rotation(db: &TestDb) {
    use control::secrets::Keyring;
    use control::secrets::keyring::new_key;
    let key = new_key();
    let cfg = || BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    let base = Base::new(db.store.clone(), cfg()).with_keyring(Keyring::from_keys(key, &[]));
    let (ana, svc) = owner_with_service(&base).await;
    base.add_domain(&ana, &svc, add("key.example.com"))
        .await
        .unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["key.example.com".into()]).unwrap();
    let upload = UploadCertificateRequest {
        chain_pem: cert.cert.pem(),
        key_pem: cert.key_pair.serialize_pem(),
    };
    base.upload_certificate(&ana, &svc, "key.example.com", upload)
        .await
        .unwrap();
    let sealed = || async {
        let row: (String, String) =
            sqlx::query_as("SELECT upload_key_sealed, upload_key_id FROM domains")
                .fetch_one(db.store.pool())
                .await
                .unwrap();
        row
    };
    let before = sealed().await;
    let keyring = Keyring::from_keys(new_key(), &[key]);
    let new_id = keyring.current_id().to_string();
    let rotated = Base::new(db.store.clone(), cfg()).with_keyring(keyring);
    assert_eq!(rotated.reseal_secrets().await.unwrap(), 1);
    let after = sealed().await;
    assert_ne!(before.0, after.0);
    assert_eq!(after.1, new_id);
}
on_both_backends!(
    uploaded_keys_are_resealed_on_rotation,
    uploaded_keys_are_resealed_on_rotation
);

/// A service's default host has no domain row, yet what the instance reports of its
/// certificate shows on the Domains list (with the events a custom domain's would give); a
/// report about another instance's service, or about a host that no longer applies, does not.
async fn default_host_certificates_are_recorded_and_shown(db: &TestDb) {
    let dns = DnsServer::start();
    let base = base_with_dns(db, &dns);
    let (ana, svc) = owner_with_service(&base).await;
    let cluster = base.list_clusters(&ana).await.unwrap()[0].id.clone();
    let service = base.get_service(&ana, &svc).await.unwrap();
    let instance = service.instance_id.clone();
    assert_eq!(
        base.list_domains(&ana, &svc).await.unwrap().default_host,
        None
    );

    let host = proto::wire::HostFacts {
        ingress_domain: Some("apps.example.net".into()),
        ..proto::wire::HostFacts::detect()
    };
    base.instance_seen(&instance, "test", &host).await.unwrap();
    let name = format!("{}.apps.example.net", service.spec.name);
    let shown = base.list_domains(&ana, &svc).await.unwrap().default_host;
    let shown = shown.expect("a default host once the instance said a public ingress domain");
    assert_eq!(shown.name, name);
    assert!(!shown.wildcard, "no wildcard record yet: {shown:?}");
    assert_eq!(shown.certificate.status, CertificateStatus::None);

    let issued = CertReport {
        domain: name.clone(),
        state: CertState::Issued {
            expires_at_ms: 1_900_000_000_000,
            issuer: "Pebble Intermediate CA".into(),
        },
    };
    base.record_certificate("ins_other", &issued).await.unwrap();
    let shown = base.list_domains(&ana, &svc).await.unwrap().default_host;
    assert_eq!(shown.unwrap().certificate.status, CertificateStatus::None);

    base.record_certificate(&instance, &issued).await.unwrap();
    base.record_certificate(&instance, &issued).await.unwrap();
    let failed = CertReport {
        domain: name.clone(),
        state: CertState::Failed {
            reason: "urn:ietf:params:acme:error:rateLimited: too many certificates".into(),
            retry_at_ms: 1_800_000_000_000,
        },
    };
    base.record_certificate(&instance, &failed).await.unwrap();
    let c = base
        .list_domains(&ana, &svc)
        .await
        .unwrap()
        .default_host
        .unwrap()
        .certificate;
    assert_eq!(c.status, CertificateStatus::Failed);
    assert!(
        c.reason.as_deref().unwrap().contains("rateLimited"),
        "{c:?}"
    );
    // The certificate issued before keeps serving: its expiry and issuer stay shown.
    assert!(
        c.expires_at.as_deref().unwrap().starts_with("2030-"),
        "{c:?}"
    );
    assert_eq!(c.issuer.as_deref(), Some("Pebble Intermediate CA"));
    let seen = actions(&base, &ana, &cluster).await;
    for a in ["domain.cert_issued", "domain.cert_failed"] {
        let n = seen.iter().filter(|s| *s == a).count();
        assert_eq!(n, 1, "{a} in {seen:?}");
    }

    // With a wildcard record the instance is asked for a certificate, and the list says so.
    dns.set_a("*.apps.example.net", std::net::Ipv4Addr::LOCALHOST);
    let other = proto::wire::HostFacts {
        ingress_domain: Some("edge.example.org".into()),
        ..host
    };
    dns.set_a("*.edge.example.org", std::net::Ipv4Addr::LOCALHOST);
    base.instance_seen(&instance, "test", &other).await.unwrap();
    let shown = base.list_domains(&ana, &svc).await.unwrap().default_host;
    let shown = shown.unwrap();
    assert!(shown.wildcard, "{shown:?}");
    // The ingress domain changed: the report about the old name no longer applies.
    assert_eq!(
        shown.name,
        format!("{}.edge.example.org", service.spec.name)
    );
    assert_eq!(shown.certificate.status, CertificateStatus::None);
}
on_both_backends!(
    default_host_certificates_are_recorded_and_shown,
    default_host_certificates_are_recorded_and_shown
);
