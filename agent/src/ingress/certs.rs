//! The ingress's certificates: one per domain, kept on disk (`<dir>/<domain>/chain.pem` and
//! `key.pem`, 0600, in a 0700 folder) and in memory for the TLS handshake, plus the ACME
//! challenge answers the ingress gives while a certificate is being ordered (HTTP-01 tokens,
//! TLS-ALPN-01 certificates). ACME (or an upload) calls [`Certificates::install`]; the HTTPS
//! listener picks a certificate by SNI through [`Certificates::resolver`], so a renewal takes
//! effect on the next handshake without a restart.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The ALPN protocol of TLS-ALPN-01 (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Why a certificate was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("not a valid domain: {0:?}")]
    Domain(String),
    #[error("the certificate chain is not valid PEM or is empty")]
    Chain,
    #[error("the private key is not a valid PEM key (PKCS#8, SEC1 or PKCS#1)")]
    Key,
    #[error("the private key does not match the certificate")]
    Mismatch,
    #[error("the certificate cannot be read: {0}")]
    X509(String),
    #[error("the certificate is for {names:?}, not {domain}")]
    WrongName { domain: String, names: Vec<String> },
    #[error("storing the certificate: {0}")]
    Io(#[from] io::Error),
}

/// What is known of a domain's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// `notAfter`, Unix milliseconds.
    pub not_after_ms: i64,
    /// `notBefore`, Unix milliseconds.
    pub not_before_ms: i64,
    /// The issuer's common name (or whole name when it has none).
    pub issuer: String,
    /// Uploaded by the team (not renewed by ACME).
    pub uploaded: bool,
}

struct Served {
    key: Arc<CertifiedKey>,
    info: CertInfo,
}

#[derive(Default)]
struct Inner {
    certs: HashMap<String, Served>,
    alpn01: HashMap<String, Arc<CertifiedKey>>,
    http01: HashMap<String, String>,
}

/// The certificate store. Clones share it.
#[derive(Clone)]
pub struct Certificates {
    dir: PathBuf,
    inner: Arc<RwLock<Inner>>,
    /// Bumped after every change to `certs`, once it is visible.
    version: Arc<AtomicU64>,
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificates")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

const CHAIN: &str = "chain.pem";
const KEY: &str = "key.pem";
const UPLOADED: &str = "uploaded";

impl Certificates {
    /// Opens (making it 0700 if missing) the folder and loads every certificate in it; one
    /// that cannot be loaded is logged and skipped, so it is ordered again.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Certificates> {
        let dir = dir.into();
        make_private_dir(&dir)?;
        let store = Certificates {
            dir: dir.clone(),
            inner: Arc::default(),
            version: Arc::default(),
        };
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let domain = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let loaded = (|| -> Result<Served, CertError> {
                let chain = std::fs::read_to_string(path.join(CHAIN))?;
                let key = std::fs::read_to_string(path.join(KEY))?;
                let uploaded = path.join(UPLOADED).exists();
                parse(&domain, &chain, &key, uploaded)
            })();
            match loaded {
                Ok(served) => {
                    store.write().certs.insert(domain, served);
                }
                Err(e) => tracing::warn!(%domain, error = %e, "certificate not loaded"),
            }
        }
        Ok(store)
    }

    /// Checks `chain_pem` and `key_pem` (valid, matching, naming `domain`), stores them 0600
    /// and serves them from the next handshake on.
    pub fn install(
        &self,
        domain: &str,
        chain_pem: &str,
        key_pem: &str,
        uploaded: bool,
    ) -> Result<CertInfo, CertError> {
        let domain = normalize(domain).ok_or_else(|| CertError::Domain(domain.into()))?;
        let served = parse(&domain, chain_pem, key_pem, uploaded)?;
        let folder = self.dir.join(&domain);
        make_private_dir(&folder)?;
        write_private(&folder.join(KEY), key_pem.as_bytes())?;
        write_private(&folder.join(CHAIN), chain_pem.as_bytes())?;
        let marker = folder.join(UPLOADED);
        if uploaded {
            write_private(&marker, b"")?;
        } else if marker.exists() {
            std::fs::remove_file(&marker)?;
        }
        let info = served.info.clone();
        self.write().certs.insert(domain, served);
        self.version.fetch_add(1, Ordering::Release);
        Ok(info)
    }

    /// The certificate serving `domain`, if any.
    pub fn info(&self, domain: &str) -> Option<CertInfo> {
        let domain = normalize(domain)?;
        self.read().certs.get(&domain).map(|s| s.info.clone())
    }

    /// Counts changes to which domains have a certificate (for [`super::covered`]).
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Every domain with a certificate.
    pub fn domains(&self) -> Vec<String> {
        self.read().certs.keys().cloned().collect()
    }

    /// Stops serving `domain`'s certificate and deletes it from disk.
    pub fn remove(&self, domain: &str) -> io::Result<()> {
        let Some(domain) = normalize(domain) else {
            return Ok(());
        };
        self.write().certs.remove(&domain);
        self.version.fetch_add(1, Ordering::Release);
        match std::fs::remove_dir_all(self.dir.join(&domain)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Answers `GET /.well-known/acme-challenge/<token>` with `key_authorization` until cleared.
    pub fn set_http01(&self, token: &str, key_authorization: &str) {
        let mut inner = self.write();
        inner
            .http01
            .insert(token.to_string(), key_authorization.to_string());
    }

    pub fn clear_http01(&self, token: &str) {
        self.write().http01.remove(token);
    }

    /// The key authorization to answer an HTTP-01 request for `token` with.
    pub fn http01(&self, token: &str) -> Option<String> {
        self.read().http01.get(token).cloned()
    }

    /// Presents `key` to a TLS-ALPN-01 validation (ALPN `acme-tls/1`) for `domain` until
    /// cleared.
    pub fn set_alpn01(&self, domain: &str, key: Arc<CertifiedKey>) {
        if let Some(domain) = normalize(domain) {
            self.write().alpn01.insert(domain, key);
        }
    }

    pub fn clear_alpn01(&self, domain: &str) {
        if let Some(domain) = normalize(domain) {
            self.write().alpn01.remove(&domain);
        }
    }

    /// For the HTTPS listener's `ServerConfig::cert_resolver`.
    pub fn resolver(&self) -> Arc<dyn ResolvesServerCert> {
        Arc::new(Resolver(self.clone()))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Picks the certificate for a handshake: the challenge certificate when the client asks only
/// for `acme-tls/1`, else the domain's own (exact name, then a `*.` wildcard one level up).
#[derive(Debug)]
struct Resolver(Certificates);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = normalize(hello.server_name()?)?;
        let inner = self.0.read();
        let acme = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if acme {
            return inner.alpn01.get(&name).cloned();
        }
        if let Some(s) = inner.certs.get(&name) {
            return Some(s.key.clone());
        }
        let (_, parent) = name.split_once('.')?;
        inner
            .certs
            .get(&format!("*.{parent}"))
            .map(|s| s.key.clone())
    }
}

/// Lower case, no trailing dot; `None` for what cannot be a DNS name.
pub fn normalize(domain: &str) -> Option<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !d.is_empty()
        && d.len() <= 253
        && d.split('.').enumerate().all(|(i, label)| {
            (label == "*" && i == 0)
                || (!label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        });
    valid.then_some(d)
}

fn parse(
    domain: &str,
    chain_pem: &str,
    key_pem: &str,
    uploaded: bool,
) -> Result<Served, CertError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| CertError::Chain)?;
    let leaf = chain.first().ok_or(CertError::Chain)?.clone();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| CertError::Key)?;
    let signer =
        rustls::crypto::ring::sign::any_supported_type(&key).map_err(|_| CertError::Key)?;
    let certified = CertifiedKey::new(chain, signer);
    certified.keys_match().map_err(|_| CertError::Mismatch)?;
    let info = describe(domain, &leaf, uploaded)?;
    Ok(Served {
        key: Arc::new(certified),
        info,
    })
}

/// Validity, issuer and whether the leaf names `domain` (exactly or by a wildcard).
fn describe(
    domain: &str,
    leaf: &CertificateDer<'_>,
    uploaded: bool,
) -> Result<CertInfo, CertError> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let (_, cert) =
        X509Certificate::from_der(leaf.as_ref()).map_err(|e| CertError::X509(e.to_string()))?;
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let wildcard = domain
        .split_once('.')
        .map(|(_, parent)| format!("*.{parent}"));
    let covers = names
        .iter()
        .any(|n| n == domain || Some(n) == wildcard.as_ref());
    if !covers {
        return Err(CertError::WrongName {
            domain: domain.into(),
            names,
        });
    }
    let issuer = cert
        .issuer()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok().map(str::to_string))
        .unwrap_or_else(|| cert.issuer().to_string());
    let validity = cert.validity();
    Ok(CertInfo {
        not_after_ms: validity.not_after.timestamp() * 1000,
        not_before_ms: validity.not_before.timestamp() * 1000,
        issuer,
        uploaded,
    })
}

fn make_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Writes `bytes` to a 0600 temporary file beside `path` and renames it over `path`.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
#[path = "certs_tests.rs"]
pub(crate) mod tests;
