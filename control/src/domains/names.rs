//! What a custom domain may be called: a host name of at least two labels, or a wildcard of
//! exactly one level (`*.example.com`), stored lower case without a trailing dot. One parser for
//! the domains API and the service settings' `domains`, so both store the same form.

use proto::service::check_domain;

use crate::DomainError;

/// The stored form of `input`, or why it is not a domain Base routes.
pub fn parse(input: &str) -> Result<String, DomainError> {
    let name = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |m: String| DomainError::invalid("domains", m);
    let host = match name.strip_prefix("*.") {
        Some(rest) => rest,
        None => name.as_str(),
    };
    if host.contains('*') {
        return Err(bad(format!(
            "{input:?}: a wildcard is only `*.` before the domain (one level, e.g. *.example.com)"
        )));
    }
    check_domain(host).map_err(bad)?;
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return Err(bad(format!(
            "{input:?} is not a public domain name: it needs a dot (app.example.com)"
        )));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad(format!(
            "{input:?} looks like an IP address: give a domain name"
        )));
    }
    Ok(name)
}

/// The name whose TXT record proves ownership: `_dployr.<name>`, and for `*.example.com`
/// `_dployr.example.com` (a wildcard's owner controls the parent zone).
pub fn txt_name(name: &str) -> String {
    format!("_dployr.{}", name.strip_prefix("*.").unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(parse(" App.Example.COM. ").unwrap(), "app.example.com");
        assert_eq!(parse("*.example.com").unwrap(), "*.example.com");
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "localhost",
            "*.*.example.com",
            "a.*.example.com",
            "*example.com",
            "10.0.0.1",
            "bad_name.example.com",
            "-a.example.com",
            "*.com",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                matches!(
                    err,
                    DomainError::Invalid {
                        field: "domains",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn wildcards_are_proven_at_their_parent() {
        assert_eq!(txt_name("*.example.com"), "_dployr.example.com");
        assert_eq!(txt_name("app.example.com"), "_dployr.app.example.com");
    }
}
