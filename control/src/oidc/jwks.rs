//! The issuers' signing keys: found through `{issuer}/.well-known/openid-configuration`
//! (`jwks_uri`) and cached per issuer for an hour. A token whose `kid` is not in the cache makes
//! Base fetch the JWKS again (keys rotate), at most once a minute per issuer, so a stream of
//! tokens with made-up key ids cannot turn Base into a load on the issuer. A refetch replaces
//! the keys: a key the issuer stopped publishing stops verifying.
//!
//! Only issuers a binding names are ever fetched, and only over `https` (tests may allow
//! `http://127.0.0.1` with `BaseConfig.oidc_http_loopback`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::Refusal;
use super::jwt::Jwk;

/// Keys older than this are fetched again before use.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches caused by unknown key ids.
const REFETCH_EVERY: Duration = Duration::from_secs(60);
/// Discovery documents and JWKS are small; anything bigger is refused.
const MAX_DOC_BYTES: usize = 256 * 1024;

#[derive(Debug)]
struct Cached {
    jwks_uri: String,
    keys: Vec<Jwk>,
    fetched: Instant,
    /// When an unknown `kid` last caused a fetch.
    refetched: Option<Instant>,
}

/// What Base remembers of the issuers it trusts.
#[derive(Debug)]
pub struct KeyCache {
    client: reqwest::Client,
    http_loopback: bool,
    /// Held across a fetch, so concurrent exchanges with an unknown key fetch once.
    issuers: tokio::sync::Mutex<HashMap<String, Cached>>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<Jwk>,
}

impl KeyCache {
    pub fn new(http_loopback: bool) -> KeyCache {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client with rustls and a timeout always builds");
        KeyCache {
            client,
            http_loopback,
            issuers: Default::default(),
        }
    }

    /// Whether `url` may be fetched: `https`, or `http` on 127.0.0.1 when tests allow it.
    pub fn allowed_url(&self, url: &str) -> bool {
        allowed_url(url, self.http_loopback)
    }

    /// The key `kid` of `issuer`, fetching discovery and keys as the rules above allow.
    pub async fn key(&self, issuer: &str, kid: &str) -> Result<Jwk, Refusal> {
        let now = Instant::now();
        let mut issuers = self.issuers.lock().await;
        if let Some(c) = issuers.get_mut(issuer) {
            let stale = now.duration_since(c.fetched) >= KEYS_TTL;
            if !stale && let Some(k) = find(&c.keys, kid) {
                return Ok(k);
            }
            let may_refetch = c
                .refetched
                .is_none_or(|t| now.duration_since(t) >= REFETCH_EVERY);
            if !stale && !may_refetch {
                return Err(Refusal::UnknownKey);
            }
            let uri = c.jwks_uri.clone();
            let keys = self.fetch_keys(issuer, &uri).await?;
            c.keys = keys;
            c.fetched = now;
            if !stale {
                c.refetched = Some(now);
            }
            return find(&c.keys, kid).ok_or(Refusal::UnknownKey);
        }
        let jwks_uri = self.discover(issuer).await?;
        let keys = self.fetch_keys(issuer, &jwks_uri).await?;
        let found = find(&keys, kid);
        issuers.insert(
            issuer.to_string(),
            Cached {
                jwks_uri,
                keys,
                fetched: now,
                refetched: None,
            },
        );
        found.ok_or(Refusal::UnknownKey)
    }

    async fn discover(&self, issuer: &str) -> Result<String, Refusal> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc: Discovery = self.get_json(issuer, &url).await?;
        if doc.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            tracing::warn!(issuer, said = %doc.issuer, "OIDC discovery names another issuer");
            return Err(Refusal::IssuerUnreachable);
        }
        if !self.allowed_url(&doc.jwks_uri) {
            tracing::warn!(issuer, jwks_uri = %doc.jwks_uri, "OIDC jwks_uri is not https");
            return Err(Refusal::IssuerUnreachable);
        }
        Ok(doc.jwks_uri)
    }

    async fn fetch_keys(&self, issuer: &str, uri: &str) -> Result<Vec<Jwk>, Refusal> {
        tracing::info!(issuer, url = uri, "fetching an OIDC issuer's keys");
        let set: KeySet = self.get_json(issuer, uri).await?;
        Ok(set.keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        issuer: &str,
        url: &str,
    ) -> Result<T, Refusal> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            tracing::warn!(issuer, url, error = %e, "OIDC {what} failed");
            Refusal::IssuerUnreachable
        };
        let res = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| fail("fetch", &e))?;
        if !res.status().is_success() {
            return Err(fail("fetch", &res.status()));
        }
        let body = res.bytes().await.map_err(|e| fail("read", &e))?;
        if body.len() > MAX_DOC_BYTES {
            return Err(fail("read", &"document too large"));
        }
        serde_json::from_slice(&body).map_err(|e| fail("parse", &e))
    }
}

fn find(keys: &[Jwk], kid: &str) -> Option<Jwk> {
    keys.iter().find(|k| k.kid.as_deref() == Some(kid)).cloned()
}

/// `https://…`, or `http://127.0.0.1…` when `http_loopback` (tests only).
pub fn allowed_url(url: &str, http_loopback: bool) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    match u.scheme() {
        "https" => u.host_str().is_some(),
        "http" => http_loopback && u.host_str() == Some("127.0.0.1"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::allowed_url;

    #[test]
    fn only_https_issuers_unless_loopback_is_allowed() {
        assert!(allowed_url(
            "https://token.actions.githubusercontent.com",
            false
        ));
        assert!(!allowed_url(
            "http://token.actions.githubusercontent.com",
            true
        ));
        assert!(!allowed_url("http://127.0.0.1:9000", false));
        assert!(allowed_url("http://127.0.0.1:9000", true));
        assert!(!allowed_url("file:///etc/passwd", true));
    }
}
