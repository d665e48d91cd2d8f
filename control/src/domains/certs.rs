//! Uploaded certificates: one the team uploads instead of ACME (its shape checked, the key
//! sealed like a service secret under context `domain/<name>` and never shown again; sent only
//! to the service's own instance). What the instance reports about certificates is in
//! [`super::cert_reports`].

use proto::api::{AuditAction, Domain, UploadCertificateRequest};
use proto::wire::{Command, Outcome, UploadedCert};
use serde_json::json;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

use super::view;
use crate::events::{NewEvent, record};
use crate::rbac::ManageServices;
use crate::secrets::Sealed;
use crate::store::domains::{self as sql, DomainRow};
use crate::{Actor, Base, DomainError};

/// The largest chain and key accepted (a long chain is a few KiB).
const MAX_CHAIN_BYTES: usize = 32 * 1024;
const MAX_KEY_BYTES: usize = 16 * 1024;

fn seal_context(name: &str) -> String {
    format!("domain/{name}")
}

/// Whether a certificate for `pattern` (`app.example.com`, `*.example.com`) covers `name`.
fn covers(pattern: &str, name: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    if pattern == name {
        return true;
    }
    match (pattern.strip_prefix("*."), name.split_once('.')) {
        (Some(parent), Some((_, rest))) => parent == rest && !name.starts_with("*."),
        _ => false,
    }
}

/// Checks the chain is PEM certificates whose first names `domain`, and the key a PEM private
/// key. Returns the leaf's `notAfter` (Unix ms).
pub fn check_upload(domain: &str, chain: &str, key: &str) -> Result<i64, DomainError> {
    if chain.len() > MAX_CHAIN_BYTES || key.len() > MAX_KEY_BYTES {
        return Err(DomainError::invalid(
            "chain_pem",
            "the chain is at most 32 KiB and the key 16 KiB",
        ));
    }
    let blocks: Vec<Pem> = Pem::iter_from_buffer(chain.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| DomainError::invalid("chain_pem", "the chain is not PEM"))?;
    let Some(leaf) = blocks.first() else {
        return Err(DomainError::invalid(
            "chain_pem",
            "the chain holds no certificate",
        ));
    };
    if blocks.iter().any(|b| b.label != "CERTIFICATE") {
        return Err(DomainError::invalid(
            "chain_pem",
            "the chain may hold CERTIFICATE blocks only",
        ));
    }
    for b in &blocks {
        b.parse_x509().map_err(|_| {
            DomainError::invalid("chain_pem", "a certificate of the chain is not X.509")
        })?;
    }
    let cert = leaf.parse_x509().expect("parsed just above");
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if let GeneralName::DNSName(d) = n {
                names.push(d.to_string());
            }
        }
    }
    if !names.iter().any(|n| covers(n, domain)) {
        return Err(DomainError::invalid(
            "chain_pem",
            format!(
                "the first certificate is for {} and not for {domain}",
                names.join(", ")
            ),
        ));
    }
    let not_after = not_after_ms(&cert);
    let keys: Vec<Pem> = Pem::iter_from_buffer(key.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| DomainError::invalid("key_pem", "the key is not PEM"))?;
    let key_ok = keys.len() == 1
        && ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"].contains(&keys[0].label.as_str())
        && !keys[0].contents.is_empty();
    if !key_ok {
        return Err(DomainError::invalid(
            "key_pem",
            "the key must be one PEM private key (PKCS#8, SEC1 or PKCS#1), unencrypted",
        ));
    }
    check_key_matches(&blocks, key)?;
    Ok(not_after)
}

/// Whether `key` is the private key of the chain's first certificate, checked as dployrd's
/// ingress checks it before serving (rustls, comparing SubjectPublicKeyInfo): a mismatch caught
/// here is an error the team sees at once instead of a certificate the instance later refuses.
fn check_key_matches(chain: &[Pem], key: &str) -> Result<(), DomainError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let wrong_key = |why: &str| DomainError::invalid("key_pem", why);
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
        .map_err(|_| wrong_key("the key is not a PEM private key"))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|_| wrong_key("the key is not an RSA, ECDSA (P-256, P-384) or Ed25519 key"))?;
    let certs = chain
        .iter()
        .map(|b| CertificateDer::from(b.contents.clone()))
        .collect();
    rustls::sign::CertifiedKey::new(certs, signer)
        .keys_match()
        .map_err(|_| wrong_key("the key does not belong to the first certificate of the chain"))
}

fn not_after_ms(cert: &X509Certificate<'_>) -> i64 {
    cert.validity().not_after.timestamp().saturating_mul(1000)
}

/// The `notAfter` (Unix ms) and issuer (its common name, else the whole name) of an uploaded
/// chain's first certificate: what the dashboard shows of an upload before the instance
/// reports it serving. `None` for a chain that does not parse (never stored: see
/// [`check_upload`]).
pub(crate) fn uploaded_leaf(chain: &str) -> Option<(i64, String)> {
    let pem = Pem::iter_from_buffer(chain.as_bytes()).next()?.ok()?;
    let cert = pem.parse_x509().ok()?;
    let issuer = cert
        .issuer()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok().map(str::to_string))
        .unwrap_or_else(|| cert.issuer().to_string());
    Some((not_after_ms(&cert), issuer))
}

impl Base {
    /// Stores an uploaded certificate for the domain (key sealed) and, if the domain is
    /// verified, sends it to the service's instance.
    pub async fn upload_certificate(
        &self,
        actor: &Actor,
        service_id: &str,
        name: &str,
        req: UploadCertificateRequest,
    ) -> Result<Domain, DomainError> {
        let (svc, may) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let row = self.domain_of(&svc, name).await?;
        let not_after = check_upload(&row.name, &req.chain_pem, &req.key_pem)?;
        let Sealed { key_id, data } = self.keyring.seal(&seal_context(&row.name), &req.key_pem);
        let mut tx = self.store.begin().await?;
        sql::set_upload(&mut *tx, &row.id, &req.chain_pem, &data, &key_id).await?;
        let details = json!({ "domain": row.name, "expires_at_ms": not_after });
        let e = NewEvent::by(
            actor,
            may.cluster_id(),
            AuditAction::DomainCertificateUpload,
            &svc.id,
            details,
        );
        record(&mut *tx, e).await?;
        tx.commit().await?;
        let row = self.domain_of(&svc, &row.name).await?;
        if row.status == proto::api::DomainStatus::Verified {
            self.install_uploaded_certificates(&svc.instance_id, &[&row])
                .await;
        }
        Ok(view(&row, &self.pointers(&svc).await))
    }

    /// Seals every uploaded certificate key again under the current master key, in the
    /// rotation's transaction (see [`Base::reseal_secrets`]).
    pub(crate) async fn reseal_uploaded_keys(
        &self,
        tx: &mut crate::store::Tx<'_>,
    ) -> Result<usize, DomainError> {
        let rows = sql::with_upload(&mut **tx).await?;
        for r in &rows {
            let ctx = seal_context(&r.name);
            let sealed = Sealed {
                key_id: r.upload_key_id.clone().unwrap_or_default(),
                data: r.upload_key_sealed.clone().unwrap_or_default(),
            };
            let key = self.keyring.open(&ctx, &sealed).map_err(|e| {
                DomainError::Conflict(format!(
                    "the uploaded key of the domain {} cannot be opened: {e}",
                    r.name
                ))
            })?;
            let fresh = self.keyring.seal(&ctx, &key);
            sql::reseal(&mut **tx, &r.id, &fresh.data, &fresh.key_id).await?;
        }
        Ok(rows.len())
    }

    /// Sends the uploaded certificates among `rows` to their instance (the only place a key
    /// is opened). Failures are logged: the next connect sends them again.
    pub(crate) async fn install_uploaded_certificates(
        &self,
        instance_id: &str,
        rows: &[&DomainRow],
    ) {
        for row in rows {
            let (Some(chain), Some(sealed), Some(key_id)) = (
                &row.upload_chain,
                &row.upload_key_sealed,
                &row.upload_key_id,
            ) else {
                continue;
            };
            let sealed = Sealed {
                key_id: key_id.clone(),
                data: sealed.clone(),
            };
            let key_pem = match self.keyring.open(&seal_context(&row.name), &sealed) {
                Ok(k) => k,
                Err(e) => {
                    tracing::warn!(domain = %row.name, error = %e, "an uploaded key cannot be opened");
                    continue;
                }
            };
            let cert = UploadedCert {
                domain: row.name.clone(),
                chain_pem: chain.clone(),
                key_pem,
            };
            let sent = self
                .send_command(
                    instance_id,
                    Command::InstallCertificate(cert),
                    self.limits().command_timeout,
                )
                .await;
            if !matches!(sent, Ok(Outcome::Ok)) {
                tracing::info!(domain = %row.name, outcome = ?sent, "uploaded certificate not installed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploaded_leaf_shows_its_expiry_and_issuer() {
        let cert = rcgen::generate_simple_self_signed(vec!["app.example.com".into()]).unwrap();
        let (not_after, issuer) = uploaded_leaf(&cert.cert.pem()).unwrap();
        assert_eq!(
            not_after,
            check_upload(
                "app.example.com",
                &cert.cert.pem(),
                &cert.key_pair.serialize_pem()
            )
            .unwrap()
        );
        assert_eq!(issuer, "rcgen self signed cert");
        assert!(uploaded_leaf("junk").is_none());
    }

    #[test]
    fn wildcards_cover_one_level() {
        assert!(covers("app.example.com", "app.example.com"));
        assert!(covers("*.example.com", "app.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("*.example.com", "*.example.com"));
    }

    #[test]
    fn uploads_are_checked_for_shape() {
        let cert = rcgen::generate_simple_self_signed(vec!["app.example.com".into()]).unwrap();
        let chain = cert.cert.pem();
        let key = cert.key_pair.serialize_pem();
        assert!(check_upload("app.example.com", &chain, &key).unwrap() > 0);
        let wrong = check_upload("other.example.com", &chain, &key).unwrap_err();
        assert!(
            wrong.to_string().contains("not for other.example.com"),
            "{wrong}"
        );
        assert!(check_upload("app.example.com", "junk", &key).is_err());
        assert!(check_upload("app.example.com", &chain, &chain).is_err());
        assert!(check_upload("app.example.com", &key, &key).is_err());
        let other = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let mismatch = check_upload("app.example.com", &chain, &other).unwrap_err();
        assert!(
            matches!(&mismatch, DomainError::Invalid { field: "key_pem", message }
                if message.contains("does not belong")),
            "{mismatch:?}"
        );
    }
}
