//! `--tls files`: the operator's certificate and key (PEM), served to every handshake and
//! reloaded when either file changes (looked at every few seconds) or on SIGHUP, so a renewal
//! by certbot or another tool takes effect without a restart. A pair that does not load (a
//! half-written renewal, a key that does not match) leaves the previous one serving.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// How often the files are looked at for changes.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Why the certificate files could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: no PEM certificate in it")]
    Chain(String),
    #[error("{0}: not a PEM private key (PKCS#8, SEC1 or PKCS#1) that TLS can use")]
    Key(String),
    #[error("the key in {key} does not match the certificate in {cert}")]
    Mismatch { cert: String, key: String },
}

/// The certificate being served, swapped on reload.
#[derive(Debug)]
pub struct FileCert {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl FileCert {
    /// Loads the pair; an error names the file at fault.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<FileCert>, FilesError> {
        let current = load_pair(cert, key)?;
        Ok(Arc::new(FileCert {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(current),
        }))
    }

    /// Loads the files again; on failure the previous pair keeps serving.
    pub fn reload(&self) -> Result<(), FilesError> {
        let loaded = load_pair(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = loaded;
        Ok(())
    }

    /// Reloads whenever a file's modification time or size changes, or on SIGHUP, until the
    /// task is aborted.
    pub async fn watch(self: Arc<Self>) {
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut seen = self.stamp();
        loop {
            let hup = async {
                match hangup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            };
            let asked = tokio::select! {
                _ = tokio::time::sleep(RELOAD_EVERY) => false,
                _ = hup => true,
            };
            let stamp = self.stamp();
            if !asked && stamp == seen {
                continue;
            }
            // Remembered even when loading fails, so a broken pair is reported once per change.
            seen = stamp;
            match self.reload() {
                Ok(()) => tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded"),
                Err(e) => tracing::warn!(error = %e,
                    "TLS certificate not reloaded; the previous one keeps serving"),
            }
        }
    }

    fn stamp(&self) -> [Option<(SystemTime, u64)>; 2] {
        [&self.cert, &self.key].map(|p| {
            let m = std::fs::metadata(p).ok()?;
            Some((m.modified().ok()?, m.len()))
        })
    }
}

impl ResolvesServerCert for FileCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

fn read(path: &Path) -> Result<Vec<u8>, FilesError> {
    std::fs::read(path).map_err(|source| FilesError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn load_pair(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, FilesError> {
    let shown = |p: &Path| p.display().to_string();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<_, _>>()
        .ok()
        .filter(|c: &Vec<_>| !c.is_empty())
        .ok_or_else(|| FilesError::Chain(shown(cert)))?;
    let der =
        PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|_| FilesError::Key(shown(key)))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&der)
        .map_err(|_| FilesError::Key(shown(key)))?;
    let certified = CertifiedKey::new(chain, signer);
    certified.keys_match().map_err(|_| FilesError::Mismatch {
        cert: shown(cert),
        key: shown(key),
    })?;
    super::log_expiry(&certified.cert[0], &shown(cert));
    Ok(Arc::new(certified))
}
