//! What an [`Acme`](super::Acme) is configured with: which CA (its directory URL and, for a
//! private CA or a test CA such as pebble, the root that signs its HTTPS), who to contact, how
//! to prove control of a domain, and the renewal and retry timings.

use std::path::PathBuf;
use std::time::Duration;

/// Let's Encrypt's production directory (the default).
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory: untrusted certificates, generous rate limits; for trials.
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// ZeroSSL's directory. It requires External Account Binding: its dashboard gives the key ID
/// and HMAC key for [`ExternalAccount`] (`--acme-eab-kid`, `--acme-eab-hmac-key`).
pub const ZEROSSL: &str = "https://acme.zerossl.com/v2/DV90";

/// How the CA checks that this server answers for a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChallengeKind {
    /// `http-01`: the CA fetches `http://<domain>/.well-known/acme-challenge/<token>` on port 80.
    #[default]
    Http01,
    /// `tls-alpn-01` (RFC 8737): the CA connects to port 443 with ALPN `acme-tls/1`.
    TlsAlpn01,
}

impl std::str::FromStr for ChallengeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "http-01" => Ok(ChallengeKind::Http01),
            "tls-alpn-01" => Ok(ChallengeKind::TlsAlpn01),
            other => Err(format!(
                "unknown ACME challenge {other:?}: use http-01 or tls-alpn-01"
            )),
        }
    }
}

/// When certificates are renewed and failures retried.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    /// Renew when this fraction of a certificate's lifetime has passed (2/3 by default).
    pub renew_at: f64,
    /// At most this fraction of the lifetime earlier, at random, so renewals spread out.
    pub renew_jitter: f64,
    /// The first retry after a failure; each further failure doubles it…
    pub backoff_first: Duration,
    /// …up to this.
    pub backoff_max: Duration,
    /// How long one order may take (challenge validation, issuance) before it fails.
    pub order_timeout: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            renew_at: 2.0 / 3.0,
            renew_jitter: 1.0 / 30.0,
            backoff_first: Duration::from_secs(60),
            backoff_max: Duration::from_secs(6 * 3600),
            order_timeout: Duration::from_secs(120),
        }
    }
}

/// An [`Acme`](super::Acme)'s configuration.
#[derive(Debug, Clone)]
pub struct AcmeOptions {
    /// The CA's directory URL ([`LETS_ENCRYPT`] by default; see [`LETS_ENCRYPT_STAGING`],
    /// [`ZEROSSL`], or a private CA's).
    pub directory: String,
    /// Where the CA sends expiry and policy mail (optional).
    pub email: Option<String>,
    /// A PEM root to trust for the directory's HTTPS instead of the system's (a private CA,
    /// pebble). Only the file's first certificate is used.
    pub ca_root: Option<PathBuf>,
    pub challenge: ChallengeKind,
    /// Where the account is kept (`account.json`, 0600, in this 0700 folder).
    pub state_dir: PathBuf,
    pub timings: Timings,
    /// External Account Binding (RFC 8555 §7.3.4), for CAs that only take accounts tied to
    /// one of theirs (ZeroSSL, Google Trust Services, most private CAs).
    pub eab: Option<ExternalAccount>,
}

/// A CA account's key ID and HMAC key, given by the CA, that a new ACME account is bound to.
#[derive(Clone)]
pub struct ExternalAccount {
    pub kid: String,
    pub hmac_key: Vec<u8>,
}

impl std::fmt::Debug for ExternalAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The HMAC key is a credential: never in logs.
        f.debug_struct("ExternalAccount")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl AcmeOptions {
    /// Let's Encrypt production, HTTP-01, default timings, the account kept in `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>) -> AcmeOptions {
        AcmeOptions {
            directory: LETS_ENCRYPT.into(),
            email: None,
            ca_root: None,
            challenge: ChallengeKind::Http01,
            state_dir: state_dir.into(),
            timings: Timings::default(),
            eab: None,
        }
    }
}
