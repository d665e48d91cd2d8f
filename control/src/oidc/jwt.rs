//! A compact JWS as CI identity tokens are: `header.payload.signature`, base64url, signed
//! RS256 or ES256 (what GitHub and GitLab use). Parsing reads the header and the claims without
//! trusting them (the issuer picks the keys); [`Jwt::verify`] checks the signature with a key
//! from the issuer's JWKS through `ring`, which rustls already builds.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Refusal;

/// The signature algorithms Base accepts; `none` and HMAC never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
}

/// One key of a JWKS, as much of it as verification needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

/// A parsed, not yet verified token.
#[derive(Debug)]
pub struct Jwt {
    pub alg: Alg,
    pub kid: String,
    pub claims: Map<String, Value>,
    signed: String,
    signature: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

const MALFORMED: &str = "the token is not a JWT (header.payload.signature, base64url)";

fn part(s: &str) -> Result<Vec<u8>, Refusal> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| Refusal::Malformed(MALFORMED))
}

impl Jwt {
    pub fn parse(token: &str) -> Result<Jwt, Refusal> {
        let token = token.trim();
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed(MALFORMED));
        };
        let header: Header =
            serde_json::from_slice(&part(h)?).map_err(|_| Refusal::Malformed(MALFORMED))?;
        let alg = match header.alg.as_str() {
            "RS256" => Alg::Rs256,
            "ES256" => Alg::Es256,
            _ => {
                return Err(Refusal::Malformed(
                    "the token's algorithm is not RS256 or ES256",
                ));
            }
        };
        let kid = header
            .kid
            .ok_or(Refusal::Malformed("the token's header has no key id (kid)"))?;
        let claims: Map<String, Value> =
            serde_json::from_slice(&part(p)?).map_err(|_| Refusal::Malformed(MALFORMED))?;
        Ok(Jwt {
            alg,
            kid,
            claims,
            signed: format!("{h}.{p}"),
            signature: part(s)?,
        })
    }

    /// Checks the signature with `key`; a key of another type or algorithm refuses.
    pub fn verify(&self, key: &Jwk) -> Result<(), Refusal> {
        const BAD: Refusal = Refusal::BadSignature;
        if key.alg.as_deref().is_some_and(|a| a != self.alg.name()) {
            return Err(BAD);
        }
        let bytes = |v: &Option<String>| v.as_deref().map(part).transpose().ok().flatten();
        let msg = self.signed.as_bytes();
        match self.alg {
            Alg::Rs256 => {
                let (Some(n), Some(e)) = (bytes(&key.n), bytes(&key.e)) else {
                    return Err(BAD);
                };
                if key.kty != "RSA" {
                    return Err(BAD);
                }
                RsaPublicKeyComponents { n, e }
                    .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, &self.signature)
                    .map_err(|_| BAD)
            }
            Alg::Es256 => {
                let (Some(x), Some(y)) = (bytes(&key.x), bytes(&key.y)) else {
                    return Err(BAD);
                };
                if key.kty != "EC" || key.crv.as_deref() != Some("P-256") {
                    return Err(BAD);
                }
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(msg, &self.signature)
                    .map_err(|_| BAD)
            }
        }
    }

    /// A claim as text: strings as they are, numbers and booleans written out (GitLab's
    /// `ref_protected` is `"true"`, some issuers send ids as numbers).
    pub fn text(&self, name: &str) -> Option<String> {
        match self.claims.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A numeric date claim (`exp`, `nbf`, `iat`), seconds since the epoch.
    pub fn seconds(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// The audiences: `aud` is a string or an array of them.
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}
