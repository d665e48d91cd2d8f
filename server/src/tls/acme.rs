//! `--tls acme`: Base's own certificate for its public host, ordered and renewed by dployrd's
//! ACME client ([`agent::acme`]) into an [`agent::ingress::certs::Certificates`] store under
//! `<data dir>/tls/certs` (account in `<data dir>/tls/acme`). The store also holds the
//! challenge answers: HTTP-01 tokens for the plain listener, TLS-ALPN-01 certificates for the
//! TLS listener's resolver. Outcomes are logged here; renewals are the client's.

use std::path::Path;

use agent::acme::{Acme, AcmeOptions};
use agent::ingress::certs::Certificates;
use proto::wire::domains::CertState;
use tokio::sync::mpsc;

/// Opens the store in `tls_dir`, logs the certificate it already has for `host`, and starts
/// keeping one. The client's tasks stop when the returned [`Acme`] is dropped.
pub fn start(
    options: AcmeOptions,
    tls_dir: &Path,
    host: &str,
) -> std::io::Result<(Acme, Certificates)> {
    let certs = Certificates::open(tls_dir.join("certs"))?;
    match certs.info(host) {
        Some(info) => tracing::info!(%host, expires = %when(info.not_after_ms),
            issuer = %info.issuer, "Base's TLS certificate (ACME)"),
        None => tracing::info!(%host, directory = %options.directory,
            "no TLS certificate yet for Base: ordering one by ACME; HTTPS answers once it is issued"),
    }
    let (reports, mut received) = mpsc::unbounded_channel();
    let acme = Acme::start(options, certs.clone(), reports);
    acme.ensure(host);
    // Ends when the client (and so every sender) is dropped.
    tokio::spawn(async move {
        while let Some(report) = received.recv().await {
            match report.state {
                CertState::Issued {
                    expires_at_ms,
                    issuer,
                } => tracing::info!(domain = %report.domain, expires = %when(expires_at_ms),
                    %issuer, "Base's TLS certificate issued"),
                CertState::Failed {
                    reason,
                    retry_at_ms,
                } => {
                    tracing::warn!(domain = %report.domain, %reason, retry_at = %when(retry_at_ms),
                    "Base's TLS certificate could not be ordered")
                }
            }
        }
    });
    Ok((acme, certs))
}

use control::clock::rfc3339 as when;
