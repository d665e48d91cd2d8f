//! The session cookie, written and read in one place for the dashboard and the REST API:
//! `HttpOnly` (no script can read it), `SameSite=Lax` (not sent on cross-site POSTs), `Path=/`,
//! and, whenever Base is served over TLS, `Secure` and the `__Host-` name prefix. Browsers keep
//! a `__Host-` cookie only when it is `Secure`, has `Path=/` and no `Domain`, and never let a
//! sibling subdomain or a plain-HTTP page set one, so a service on `*.example.com` cannot plant
//! a session cookie for Base (session fixation). Under TLS only the prefixed name is read.

/// The cookie's name on plain HTTP (local development).
pub const NAME: &str = "dployr_session";
/// The cookie's name when Base is served over TLS.
pub const SECURE_NAME: &str = "__Host-dployr_session";

/// The name the cookie has when `secure` (Base served over TLS) or not.
pub fn name(secure: bool) -> &'static str {
    if secure { SECURE_NAME } else { NAME }
}

pub fn set(token: &str, max_age_secs: u64, secure: bool) -> String {
    let name = name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}")
}

pub fn clear(secure: bool) -> String {
    set("", 0, secure)
}

/// The session token from a `Cookie` request header, if present under the name for `secure`.
pub fn read(cookie_header: &str, secure: bool) -> Option<&str> {
    let name = name(secure);
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
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
        assert!(clear(false).contains("Max-Age=0"));
    }

    #[test]
    fn under_tls_the_cookie_is_host_prefixed_and_secure() {
        let c = set("t0k", 60, true);
        assert_eq!(
            c,
            "__Host-dployr_session=t0k; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure"
        );
        assert!(!c.contains("Domain"));
        assert!(clear(true).starts_with("__Host-dployr_session=;"));
    }

    #[test]
    fn reads_the_token_among_other_cookies() {
        assert_eq!(read("a=1; dployr_session=abc; b=2", false), Some("abc"));
        assert_eq!(read("a=1", false), None);
        assert_eq!(read("dployr_session=", false), None);
        assert_eq!(read("a=1; __Host-dployr_session=xyz", true), Some("xyz"));
    }

    #[test]
    fn each_mode_reads_only_its_own_name() {
        // Under TLS a plain `dployr_session` may have been planted by a sibling subdomain.
        assert_eq!(read("dployr_session=planted", true), None);
        assert_eq!(read("__Host-dployr_session=xyz", false), None);
    }
}
