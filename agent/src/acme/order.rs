//! One certificate order for one domain (RFC 8555 §7.4): a new order, the chosen challenge
//! answered through the ingress's [`Certificates`], the order polled until ready (with a
//! deadline), finalized with a fresh key's CSR, and the chain installed. A [`Failure`] carries
//! what the team is shown: the CA's problem detail or the network's error.

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy,
};
use rcgen::{CertificateParams, DistinguishedName, KeyPair};

use super::challenge::Answer;
use super::options::{AcmeOptions, ChallengeKind};
use crate::ingress::certs::{CertInfo, Certificates};

/// Why an order failed.
#[derive(Debug)]
pub enum Failure {
    /// The CA refused (a problem document) or could not be reached.
    Acme(instant_acme::Error),
    /// Something on this side (a key, the certificate store).
    Local(String),
    /// A certificate was uploaded for the domain meanwhile; ACME leaves it alone.
    Uploaded,
}

impl From<instant_acme::Error> for Failure {
    fn from(e: instant_acme::Error) -> Self {
        Failure::Acme(e)
    }
}

impl Failure {
    /// The reason shown to the team: the CA's problem (type and detail, with subproblems) or
    /// the error with its causes.
    pub fn reason(&self) -> String {
        match self {
            Failure::Acme(instant_acme::Error::Api(problem)) => {
                let text = problem.to_string();
                text.strip_prefix("API error: ")
                    .unwrap_or(&text)
                    .to_string()
            }
            Failure::Acme(e) => with_causes(e),
            Failure::Local(s) => s.clone(),
            Failure::Uploaded => "an uploaded certificate serves this domain".into(),
        }
    }

    /// The CA no longer knows the account (a CA that lost its state, a deactivated account):
    /// a new account is the cure.
    pub fn account_gone(&self) -> bool {
        matches!(self, Failure::Acme(instant_acme::Error::Api(p))
            if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:accountDoesNotExist"))
    }
}

fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Orders a certificate for `domain` and installs it; the challenge answers are withdrawn
/// whatever happens.
pub async fn order(
    account: &Account,
    certs: &Certificates,
    options: &AcmeOptions,
    domain: &str,
) -> Result<CertInfo, Failure> {
    let kind = match options.challenge {
        ChallengeKind::Http01 => ChallengeType::Http01,
        ChallengeKind::TlsAlpn01 => ChallengeType::TlsAlpn01,
    };
    let identifiers = [Identifier::Dns(domain.to_string())];
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let mut answers = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => {
                return Err(Failure::Local(format!(
                    "the CA's authorization for {domain} is {other:?}"
                )));
            }
        }
        let mut challenge = authorization.challenge(kind.clone()).ok_or_else(|| {
            Failure::Local(format!("the CA offers no {kind:?} challenge for {domain}"))
        })?;
        let key_authorization = challenge.key_authorization();
        answers.push(match options.challenge {
            ChallengeKind::Http01 => {
                Answer::http01(certs, &challenge.token, key_authorization.as_str())
            }
            ChallengeKind::TlsAlpn01 => {
                Answer::tls_alpn01(certs, domain, key_authorization.digest().as_ref())
                    .map_err(|e| Failure::Local(e.to_string()))?
            }
        });
        challenge.set_ready().await?;
    }
    let retries = RetryPolicy::new().timeout(options.timings.order_timeout);
    if order.poll_ready(&retries).await? != OrderStatus::Ready {
        return Err(invalid(&mut order, &kind, domain).await);
    }
    let key = KeyPair::generate().map_err(|e| Failure::Local(format!("key: {e}")))?;
    let mut params = CertificateParams::new(vec![domain.to_string()])
        .map_err(|e| Failure::Local(format!("CSR for {domain}: {e}")))?;
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(|e| Failure::Local(format!("CSR for {domain}: {e}")))?;
    order.finalize_csr(csr.der()).await?;
    let chain = order.poll_certificate(&retries).await?;
    drop(answers);
    if certs.info(domain).is_some_and(|info| info.uploaded) {
        return Err(Failure::Uploaded);
    }
    certs
        .install(domain, &chain, &key.serialize_pem(), false)
        .map_err(|e| Failure::Local(format!("the CA's certificate was not installed: {e}")))
}

/// Why an order became invalid: the failed challenge's problem, as the CA explains it.
async fn invalid(order: &mut instant_acme::Order, kind: &ChallengeType, domain: &str) -> Failure {
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authorization)) = authorizations.next().await {
        let Ok(state) = authorization.refresh().await else {
            continue;
        };
        let problem = state
            .challenges
            .iter()
            .filter(|c| &c.r#type == kind)
            .find_map(|c| c.error.clone());
        if let Some(problem) = problem {
            return Failure::Acme(instant_acme::Error::Api(problem));
        }
    }
    Failure::Local(format!(
        "the CA marked the order for {domain} invalid without saying why"
    ))
}
