//! What a verified token must say to act in a cluster: its times (`exp` required; `nbf` and
//! `iat` not in the future, with a minute of clock skew), its audience, no pull-request event
//! (GitHub) and a protected ref (GitLab), and a binding whose repository, ref and environment
//! it names exactly. Pure functions over the parsed token, so each rule is tested alone.

use proto::api::OidcProvider;

use super::Refusal;
use super::jwt::Jwt;
use crate::store::oidc::BindingRow;

/// Clock skew tolerated between Base and the issuer.
pub const SKEW_SECS: i64 = 60;

/// GitHub events whose tokens never get a token: code from a fork can run in them.
const PULL_REQUEST_EVENTS: &[&str] = &["pull_request", "pull_request_target"];

/// `exp` in the future, `nbf` and `iat` not, each with [`SKEW_SECS`].
pub fn check_times(jwt: &Jwt, now_secs: i64) -> Result<(), Refusal> {
    let exp = jwt
        .seconds("exp")
        .ok_or(Refusal::Malformed("the token has no expiry (exp)"))?;
    if exp + SKEW_SECS <= now_secs {
        return Err(Refusal::Expired);
    }
    for claim in ["nbf", "iat"] {
        if jwt.seconds(claim).is_some_and(|t| t - SKEW_SECS > now_secs) {
            return Err(Refusal::NotYetValid);
        }
    }
    Ok(())
}

/// The one binding `jwt` acts through, among the bindings trusting its issuer (`candidates`,
/// limited to one cluster when the request names it). The most powerful of those that match in
/// one cluster; a match in several clusters is ambiguous.
pub fn pick(jwt: &Jwt, candidates: Vec<BindingRow>) -> Result<BindingRow, Refusal> {
    let auds = jwt.audiences();
    let (heard, deaf): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|b| auds.iter().any(|a| a == &b.audience));
    if heard.is_empty() {
        let mut expected: Vec<String> = deaf.into_iter().map(|b| b.audience).collect();
        expected.dedup();
        return Err(Refusal::WrongAudience {
            got: auds,
            expected,
        });
    }
    if let Some(event) = jwt
        .text("event_name")
        .filter(|e| PULL_REQUEST_EVENTS.contains(&e.as_str()))
    {
        return Err(Refusal::PullRequest(event));
    }
    let git_ref = jwt.text("ref");
    let mut refused_unprotected = None;
    let mut matches: Vec<BindingRow> = Vec::new();
    for b in heard {
        if jwt.text(b.provider.repository_claim()).as_deref() != Some(b.repository.as_str()) {
            continue;
        }
        if b.git_ref.as_ref().is_some_and(|r| git_ref.as_ref() != Some(r)) {
            continue;
        }
        if b.environment.as_ref().is_some_and(|e| jwt.text("environment").as_ref() != Some(e)) {
            continue;
        }
        if b.provider == OidcProvider::Gitlab && jwt.text("ref_protected").as_deref() != Some("true")
        {
            refused_unprotected = Some(git_ref.clone().unwrap_or_else(|| "(none)".into()));
            continue;
        }
        matches.push(b);
    }
    if matches.is_empty() {
        if let Some(r) = refused_unprotected {
            return Err(Refusal::UnprotectedRef(r));
        }
        return Err(Refusal::NoBinding(describe(jwt)));
    }
    let cluster = &matches[0].cluster_id;
    if matches.iter().any(|b| &b.cluster_id != cluster) {
        return Err(Refusal::Ambiguous);
    }
    // Roles order most powerful first.
    matches.sort_by_key(|b| b.role);
    Ok(matches.swap_remove(0))
}

/// "repository owner/app (ref refs/heads/x, environment prod)": what the token claims, for
/// the refusal.
fn describe(jwt: &Jwt) -> String {
    let repo = jwt
        .text("repository")
        .or_else(|| jwt.text("project_path"))
        .unwrap_or_else(|| "(no repository claim)".into());
    let mut out = format!("the repository {repo}");
    let extra: Vec<String> = [("ref", jwt.text("ref")), ("environment", jwt.text("environment"))]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
        .collect();
    if !extra.is_empty() {
        out.push_str(&format!(" ({})", extra.join(", ")));
    }
    out
}
