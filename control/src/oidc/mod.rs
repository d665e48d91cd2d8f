//! CI OIDC federation: a CI job (GitHub Actions, GitLab CI) proves who it is with the identity
//! token its platform signs, and gets a `dp_` API token for one cluster lasting at most an hour,
//! so no long-lived token has to be stored in the CI's secrets.
//!
//! - [`bindings`]: a cluster's trusted issuers and the claims they must carry (Owner/Admin).
//! - [`jwt`]: the token's parts and its RS256/ES256 signature.
//! - [`jwks`]: the issuers' keys, through discovery, cached, refetched on rotation.
//! - [`claims`]: times, audience, pull requests and the binding a token matches.
//! - `exchange`: the exchange itself, rate-limited like sign-ins and audited.

pub mod bindings;
pub mod claims;
mod exchange;
pub mod jwks;
pub mod jwt;

use std::time::Duration;

use crate::DomainError;
use crate::auth::limiter::LoginLimiter;

/// The longest an exchanged token lives.
pub const TOKEN_TTL_MS: i64 = 3600 * 1000;

/// Why an identity token was refused, each with the sentence the CI job's log shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Malformed(&'static str),
    BadSignature,
    UnknownKey,
    IssuerUnreachable,
    Expired,
    NotYetValid,
    /// No cluster trusts the token's issuer.
    UnknownIssuer(String),
    WrongAudience {
        got: Vec<String>,
        expected: Vec<String>,
    },
    PullRequest(String),
    UnprotectedRef(String),
    /// The issuer is trusted, but no binding matches the claims.
    NoBinding(String),
    /// Bindings of several clusters match: the request must name one.
    Ambiguous,
    /// The person who added the binding no longer belongs to the cluster.
    CreatorGone,
}

impl From<Refusal> for DomainError {
    fn from(r: Refusal) -> DomainError {
        use Refusal::*;
        match r {
            Malformed(m) => DomainError::Unauthorized(m),
            BadSignature => DomainError::Unauthorized(
                "the token's signature does not verify with the issuer's key",
            ),
            UnknownKey => DomainError::Unauthorized(
                "unknown key: the token is signed by a key (kid) the issuer does not publish",
            ),
            IssuerUnreachable => DomainError::Unauthorized(
                "the issuer's signing keys could not be fetched (discovery or JWKS failed)",
            ),
            Expired => DomainError::Unauthorized("the token has expired (exp)"),
            NotYetValid => {
                DomainError::Unauthorized("the token is not valid yet (nbf or iat in the future)")
            }
            UnknownIssuer(iss) => DomainError::ForbiddenBecause(format!(
                "unknown issuer: no cluster trusts OIDC tokens from {iss}"
            )),
            WrongAudience { got, expected } => DomainError::ForbiddenBecause(format!(
                "wrong audience: the token is for {}, a binding expects {}",
                quoted(&got),
                quoted(&expected)
            )),
            PullRequest(event) => DomainError::ForbiddenBecause(format!(
                "refused: tokens of pull-request events ({event}) never deploy"
            )),
            UnprotectedRef(r) => DomainError::ForbiddenBecause(format!(
                "refused: the ref {r} is not protected (ref_protected must be \"true\")"
            )),
            NoBinding(what) => {
                DomainError::ForbiddenBecause(format!("no binding: no OIDC binding trusts {what}"))
            }
            Ambiguous => DomainError::invalid(
                "cluster",
                "bindings of several clusters match this token: name the cluster",
            ),
            CreatorGone => DomainError::ForbiddenBecause(
                "the person who added this OIDC binding is no longer a member".into(),
            ),
        }
    }
}

fn quoted(v: &[String]) -> String {
    if v.is_empty() {
        return "no audience".into();
    }
    v.iter()
        .map(|s| format!("\u{201c}{s}\u{201d}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Base's OIDC state: the key cache and the exchange's own throttle.
#[derive(Debug)]
pub struct Hub {
    pub keys: jwks::KeyCache,
    /// Failed exchanges per client IP, like failed sign-ins (its own, so CI retries cannot
    /// lock people out of signing in, nor the other way round).
    pub(crate) limiter: LoginLimiter,
}

impl Hub {
    pub fn new(http_loopback: bool, window: Duration, per_ip: usize) -> Hub {
        Hub {
            keys: jwks::KeyCache::new(http_loopback),
            limiter: LoginLimiter::new(window, per_ip, per_ip),
        }
    }
}
