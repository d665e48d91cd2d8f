//! What each Git host sends, without I/O: how a delivery proves it knows the secret (GitHub's
//! HMAC signature, GitLab's token, a bearer for anything else) and what it asks for (a ping, a
//! push of a branch at a commit, something else). Kept pure so the rules are unit-tested.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Who posts to `/hooks/{provider}/{service}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Generic,
}

impl Provider {
    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "github" => Some(Provider::GitHub),
            "gitlab" => Some(Provider::GitLab),
            "generic" => Some(Provider::Generic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Generic => "generic",
        }
    }
}

/// The request headers a delivery came with (names compared case-insensitively). Built by the
/// HTTP layer so this crate stays free of HTTP types.
#[derive(Debug, Clone, Default)]
pub struct HookHeaders(Vec<(String, String)>);

impl HookHeaders {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> HookHeaders {
        HookHeaders(pairs.into_iter().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// What a verified delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ask {
    /// GitHub checking that the hook works.
    Ping,
    /// An event that is not a branch push (issues, tags, merge requests…), named.
    Other(String),
    /// A push. `branch` is `None` for a generic hook that named none; `commit` is `None` when
    /// the sender did not say (deploy the branch's head).
    Push {
        branch: Option<String>,
        commit: Option<String>,
        deleted: bool,
    },
}

/// A verified delivery: its id for deduplication, if the sender gave one, and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) id: Option<String>,
    pub(crate) ask: Ask,
}

fn hmac_sha256(secret: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).expect("HMAC-SHA256 takes keys of any length");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// GitHub's `X-Hub-Signature-256` of `body`: `sha256=` and the hex HMAC-SHA256 under `secret`
/// (what a sender computes; tests sign their deliveries with it).
pub fn github_signature(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret, body)))
}

/// True when `header` (`sha256=<hex>`) is HMAC-SHA256(`secret`, `body`), compared in constant
/// time.
pub fn github_signature_ok(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    hmac_sha256(secret, body).ct_eq(&given).into()
}

fn same(secret: &str, given: Option<&str>) -> bool {
    given.is_some_and(|g| secret.as_bytes().ct_eq(g.as_bytes()).into())
}

/// True when the delivery proves it knows `secret`.
pub(crate) fn verify(provider: Provider, secret: &str, h: &HookHeaders, body: &[u8]) -> bool {
    match provider {
        Provider::GitHub => h
            .get("x-hub-signature-256")
            .is_some_and(|sig| github_signature_ok(secret.as_bytes(), body, sig)),
        Provider::GitLab => same(secret, h.get("x-gitlab-token")),
        Provider::Generic => {
            let bearer = h.get("authorization").and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
            same(secret, bearer)
        }
    }
}

/// Git's "no commit": the `after` of a push that deleted the branch.
fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// `refs/heads/x` → `x`; any other ref is not a branch.
/// A push to the branch `git_ref` names that left `head` there, or deleted the branch.
fn push_to(git_ref: &str, head: Option<String>, deleted: bool) -> Ask {
    match branch_of(git_ref) {
        Ok(branch) => Ask::Push {
            branch: Some(branch),
            commit: head.filter(|_| !deleted),
            deleted,
        },
        Err(why) => Ask::Other(why),
    }
}

fn branch_of(git_ref: &str) -> Result<String, String> {
    git_ref
        .strip_prefix("refs/heads/")
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("{git_ref} is not a branch"))
}

#[derive(Deserialize)]
struct GitHubPush {
    #[serde(rename = "ref")]
    git_ref: String,
    after: Option<String>,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
struct GitLabPush {
    #[serde(rename = "ref")]
    git_ref: String,
    checkout_sha: Option<String>,
    after: Option<String>,
}

/// Other fields are ignored: a registry's or CI's own payload (Docker Hub's, say) posted to the
/// generic URL of an image service just redeploys it.
#[derive(Deserialize, Default)]
struct GenericPush {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    commit: Option<String>,
}

fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    // GitHub's other content type, `application/x-www-form-urlencoded`, sends `payload=…`.
    if body.starts_with(b"payload=") {
        return Err("set the webhook's content type to application/json".into());
    }
    serde_json::from_slice(body).map_err(|e| format!("the body is not the expected JSON: {e}"))
}

fn id(h: &HookHeaders, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| h.get(n))
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(200).collect())
}

/// Reads what a verified delivery asks for; `Err` names what is wrong with its body.
pub(crate) fn parse(provider: Provider, h: &HookHeaders, body: &[u8]) -> Result<Delivery, String> {
    let (id, ask) = match provider {
        Provider::GitHub => {
            let ask = match h.get("x-github-event").unwrap_or_default() {
                "ping" => Ask::Ping,
                "push" => {
                    let p: GitHubPush = json(body)?;
                    let after = p.after.filter(|a| !a.is_empty());
                    let deleted = p.deleted || after.as_deref().is_some_and(is_zero);
                    push_to(&p.git_ref, after, deleted)
                }
                other => Ask::Other(format!("event {other:?} is not a push")),
            };
            (id(h, &["x-github-delivery"]), ask)
        }
        Provider::GitLab => {
            let ask = match h.get("x-gitlab-event").unwrap_or_default() {
                "Push Hook" => {
                    let p: GitLabPush = json(body)?;
                    let head = p.checkout_sha.or(p.after).filter(|s| !s.is_empty());
                    let deleted = head.as_deref().is_none_or(is_zero);
                    push_to(&p.git_ref, head, deleted)
                }
                other => Ask::Other(format!("event {other:?} is not a push")),
            };
            // Idempotency-Key stays the same across GitLab's retries of one delivery.
            (id(h, &["idempotency-key", "x-gitlab-event-uuid"]), ask)
        }
        Provider::Generic => {
            let p: GenericPush = if body.iter().all(u8::is_ascii_whitespace) {
                GenericPush::default()
            } else {
                json(body)?
            };
            let branch = p
                .git_ref
                .map(|r| r.strip_prefix("refs/heads/").unwrap_or(&r).to_string())
                .filter(|b| !b.is_empty());
            let hex = |c: &String| {
                (4..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit())
            };
            if p.commit.as_ref().is_some_and(|c| !hex(c)) {
                return Err("commit must be a commit hash (hex)".into());
            }
            let ask = Ask::Push {
                branch,
                commit: p.commit,
                deleted: false,
            };
            (id(h, &["x-delivery-id", "idempotency-key"]), ask)
        }
    };
    Ok(Delivery { id, ask })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HookHeaders {
        HookHeaders::new(pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())))
    }

    #[test]
    fn github_signature_matches_githubs_documented_vector() {
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(github_signature_ok(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            sig
        ));
        assert!(!github_signature_ok(
            b"It's a Secret",
            b"Hello, World!",
            sig
        ));
        assert!(!github_signature_ok(
            b"It's a Secret to Everybody",
            b"Hello, World?",
            sig
        ));
        assert!(!github_signature_ok(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            &sig[..20]
        ));
        assert!(!github_signature_ok(b"k", b"", "sha1=abcd"));
        assert_eq!(
            github_signature(b"It's a Secret to Everybody", b"Hello, World!"),
            sig
        );
    }

    #[test]
    fn tokens_and_bearers_must_match_exactly() {
        let gl = headers(&[("X-Gitlab-Token", "whsec_a")]);
        assert!(verify(Provider::GitLab, "whsec_a", &gl, b""));
        assert!(!verify(Provider::GitLab, "whsec_b", &gl, b""));
        assert!(!verify(Provider::GitLab, "whsec_a", &headers(&[]), b""));
        let bearer = headers(&[("authorization", "Bearer whsec_a")]);
        assert!(verify(Provider::Generic, "whsec_a", &bearer, b""));
        assert!(!verify(Provider::Generic, "whsec_", &bearer, b""));
        assert!(!verify(Provider::GitHub, "whsec_a", &bearer, b""));
    }

    #[test]
    fn pushes_name_their_branch_and_commit_and_deletions_deploy_nothing() {
        let h = headers(&[("x-github-event", "push"), ("x-github-delivery", "d1")]);
        let d = parse(
            Provider::GitHub,
            &h,
            br#"{"ref":"refs/heads/main","after":"abc123","deleted":false}"#,
        )
        .unwrap();
        assert_eq!(d.id.as_deref(), Some("d1"));
        assert_eq!(
            d.ask,
            Ask::Push {
                branch: Some("main".into()),
                commit: Some("abc123".into()),
                deleted: false
            }
        );
        let zero = format!(r#"{{"ref":"refs/heads/x","after":"{}"}}"#, "0".repeat(40));
        let d = parse(Provider::GitHub, &h, zero.as_bytes()).unwrap();
        assert!(matches!(
            d.ask,
            Ask::Push {
                deleted: true,
                commit: None,
                ..
            }
        ));
        let tag = parse(
            Provider::GitHub,
            &h,
            br#"{"ref":"refs/tags/v1","after":"ab"}"#,
        )
        .unwrap();
        assert!(matches!(tag.ask, Ask::Other(_)));
        let ping = headers(&[("x-github-event", "ping")]);
        assert_eq!(
            parse(Provider::GitHub, &ping, b"{}").unwrap().ask,
            Ask::Ping
        );
        assert!(parse(Provider::GitHub, &h, b"not json").is_err());
        let form = parse(Provider::GitHub, &h, b"payload=%7B%7D").unwrap_err();
        assert!(form.contains("application/json"), "{form}");

        let gl = headers(&[
            ("x-gitlab-event", "Push Hook"),
            ("x-gitlab-event-uuid", "u1"),
        ]);
        let d = parse(
            Provider::GitLab,
            &gl,
            br#"{"ref":"refs/heads/dev","checkout_sha":null,"after":"0000"}"#,
        )
        .unwrap();
        assert_eq!(d.id.as_deref(), Some("u1"));
        assert!(matches!(d.ask, Ask::Push { deleted: true, .. }));

        let d = parse(Provider::Generic, &headers(&[]), b"").unwrap();
        assert_eq!(
            d.ask,
            Ask::Push {
                branch: None,
                commit: None,
                deleted: false
            }
        );
        assert!(parse(Provider::Generic, &headers(&[]), br#"{"commit":"; rm"}"#).is_err());
        let registry = br#"{"push_data":{"tag":"latest"},"repository":{"name":"api"}}"#;
        assert!(parse(Provider::Generic, &headers(&[]), registry).is_ok());
    }
}
