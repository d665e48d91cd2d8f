//! Credentials as they may be shown. A service's git URL may carry a password or a token; Base
//! stores it and dployrd fetches with it, but every view, log line and error shows it through
//! here.

/// A git URL as it may be shown: its credentials replaced by `redacted`. A password always is;
/// over HTTP(S) a user name alone is too, since `https://<token>@github.com/…` is how a token is
/// usually given. `git@host:path` (SSH) names a login, not a secret, and stays. Base stores and
/// dployrd fetches the real URL; every view, log line and error shows this one.
pub fn redact_git_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let web = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
    let shown = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:redacted"),
        None if web => "redacted".to_owned(),
        None => return url.to_owned(),
    };
    format!("{scheme}://{shown}@{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls_are_shown_without_their_credentials() {
        for (url, shown) in [
            (
                "https://bot:s3cret@git.example.com/a/b.git",
                "https://bot:redacted@git.example.com/a/b.git",
            ),
            (
                "https://ghp_token@github.com/a/b.git",
                "https://redacted@github.com/a/b.git",
            ),
            ("ssh://git@host/a/b.git", "ssh://git@host/a/b.git"),
            (
                "ssh://git:pw@host/a/b.git",
                "ssh://git:redacted@host/a/b.git",
            ),
            ("git@github.com:a/b.git", "git@github.com:a/b.git"),
            ("https://github.com/a/b.git", "https://github.com/a/b.git"),
            ("https://h/p@q", "https://h/p@q"),
            ("file:///srv/api.git", "file:///srv/api.git"),
        ] {
            assert_eq!(redact_git_url(url), shown, "{url}");
        }
    }
}
