//! Domains and their certificates between Base and dployrd. Base decides which hosts a service
//! may serve (only verified ones) and tells the agent with [`Command::Domains`]; the agent routes
//! them, gets a certificate for each by ACME (or uses one uploaded with
//! [`Command::InstallCertificate`]) and tells Base how that went with [`CertReport`]s, which Base
//! records and shows (expiry, the CA's reason for a failure).
//!
//! [`Command::Domains`]: super::msg::Command::Domains
//! [`Command::InstallCertificate`]: super::msg::Command::InstallCertificate

use serde::{Deserialize, Serialize};

use crate::ids::ServiceId;

/// The hosts one service serves on the instance, replacing what it served before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDomains {
    pub service_id: ServiceId,
    /// Verified hosts, lower case, no port.
    pub hosts: Vec<String>,
    /// Send `Strict-Transport-Security` on HTTPS answers for these hosts.
    #[serde(default)]
    pub hsts: bool,
}

/// A certificate and its key the team uploaded for `domain`, used instead of ACME.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedCert {
    pub domain: String,
    /// PEM: the leaf first, then intermediates.
    pub chain_pem: String,
    /// PEM private key (PKCS#8, SEC1 or PKCS#1). Never logged.
    pub key_pem: String,
}

impl std::fmt::Debug for UploadedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadedCert")
            .field("domain", &self.domain)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What happened to a domain's certificate on the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertReport {
    pub domain: String,
    pub state: CertState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertState {
    /// A certificate serves now (new, renewed or uploaded).
    Issued {
        /// `notAfter`, Unix milliseconds.
        expires_at_ms: i64,
        /// The issuer's common name, for the dashboard.
        issuer: String,
    },
    /// Getting one failed; the old certificate (if any) keeps serving.
    Failed {
        /// The CA's or the network's reason, as shown to the team.
        reason: String,
        /// When the agent tries again, Unix milliseconds.
        retry_at_ms: i64,
    },
}
