//! The session cookie, written and read in one place for the dashboard and the REST API:
//! `HttpOnly` (no script can read it), `SameSite=Lax` (not sent on cross-site POSTs), `Path=/`,
//! and `Secure` whenever Base is served over TLS.

pub const NAME: &str = "dployr_session";

pub fn set(token: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{NAME}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}")
}

pub fn clear(secure: bool) -> String {
    set("", 0, secure)
}

/// The session token from a `Cookie` request header, if present.
pub fn read(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == NAME)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_has_the_safety_attributes() {
        assert_eq!(
            set("t0k", 60, false),
            "dployr_session=t0k; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert!(set("t0k", 60, true).ends_with("; Secure"));
        assert!(clear(false).contains("Max-Age=0"));
    }

    #[test]
    fn reads_the_token_among_other_cookies() {
        assert_eq!(read("a=1; dployr_session=abc; b=2"), Some("abc"));
        assert_eq!(read("a=1"), None);
        assert_eq!(read("dployr_session="), None);
    }
}
