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
        if b.git_ref
            .as_ref()
            .is_some_and(|r| git_ref.as_ref() != Some(r))
        {
            continue;
        }
        if b.environment
            .as_ref()
            .is_some_and(|e| jwt.text("environment").as_ref() != Some(e))
        {
            continue;
        }
        if b.provider == OidcProvider::Gitlab
            && jwt.text("ref_protected").as_deref() != Some("true")
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
    let extra: Vec<String> = [
        ("ref", jwt.text("ref")),
        ("environment", jwt.text("environment")),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
    .collect();
    if !extra.is_empty() {
        out.push_str(&format!(" ({})", extra.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proto::api::Role;
    use serde_json::{Value, json};

    use super::*;

    fn token(claims: Value) -> Jwt {
        let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let header = json!({ "alg": "RS256", "kid": "k" });
        Jwt::parse(&format!("{}.{}.AAAA", enc(header), enc(claims))).unwrap()
    }

    fn binding(cluster: &str, provider: OidcProvider, repo: &str, role: Role) -> BindingRow {
        BindingRow {
            id: format!("oib_{cluster}_{repo}"),
            cluster_id: cluster.into(),
            provider,
            issuer: "https://issuer".into(),
            audience: "https://base".into(),
            repository: repo.into(),
            git_ref: None,
            environment: None,
            role,
            created_by: "usr_1".into(),
            created_at: 0,
            creator_name: None,
        }
    }

    #[test]
    fn times_allow_a_minute_of_skew_and_need_an_expiry() {
        let now = 1_000_000;
        assert!(check_times(&token(json!({ "exp": now - 30 })), now).is_ok());
        assert_eq!(
            check_times(&token(json!({ "exp": now - 61 })), now),
            Err(Refusal::Expired)
        );
        let early = token(json!({ "exp": now + 300, "nbf": now + 120 }));
        assert_eq!(check_times(&early, now), Err(Refusal::NotYetValid));
        assert!(matches!(
            check_times(&token(json!({})), now),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn the_most_powerful_match_in_one_cluster_wins_and_two_clusters_are_ambiguous() {
        let claims =
            json!({ "aud": ["https://base"], "repository": "a/b", "ref": "refs/heads/main" });
        let gh = OidcProvider::Github;
        let mut narrow = binding("cl_1", gh, "a/b", Role::Admin);
        narrow.git_ref = Some("refs/heads/main".into());
        let picked = pick(
            &token(claims.clone()),
            vec![binding("cl_1", gh, "a/b", Role::Guest), narrow],
        )
        .unwrap();
        assert_eq!(picked.role, Role::Admin);
        let two = vec![
            binding("cl_1", gh, "a/b", Role::Guest),
            binding("cl_2", gh, "a/b", Role::Guest),
        ];
        assert_eq!(pick(&token(claims), two).unwrap_err(), Refusal::Ambiguous);
    }

    #[test]
    fn gitlab_needs_a_protected_ref_and_github_refuses_pull_requests() {
        let gl = vec![binding("cl_1", OidcProvider::Gitlab, "g/p", Role::Member)];
        let unprotected = json!({ "aud": "https://base", "project_path": "g/p", "ref": "f", "ref_protected": "false" });
        assert_eq!(
            pick(&token(unprotected), gl.clone()).unwrap_err(),
            Refusal::UnprotectedRef("f".into())
        );
        let protected =
            json!({ "aud": "https://base", "project_path": "g/p", "ref_protected": true });
        assert!(pick(&token(protected), gl).is_ok());
        let gh = vec![binding("cl_1", OidcProvider::Github, "a/b", Role::Member)];
        let pr = json!({ "aud": "https://base", "repository": "a/b", "event_name": "pull_request_target" });
        assert_eq!(
            pick(&token(pr), gh.clone()).unwrap_err(),
            Refusal::PullRequest("pull_request_target".into())
        );
        let elsewhere = json!({ "aud": "https://other", "repository": "a/b" });
        assert!(matches!(
            pick(&token(elsewhere), gh),
            Err(Refusal::WrongAudience { .. })
        ));
    }
}
