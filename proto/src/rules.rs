//! Input rules shared by Base (which enforces them) and the dashboard (which shows them while
//! people type), so the hint in the browser and the error from the server never disagree.

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;
pub const NAME_MAX: usize = 80;
pub const EMAIL_MAX: usize = 254;

/// Trimmed and lowercased, or `None` when it is not a plausible address: one `@` with something
/// on both sides and a dot inside the domain.
pub fn normalize_email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let plausible = e.len() <= EMAIL_MAX
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    plausible.then_some(e)
}

/// Why a name (of a person or a cluster) is unacceptable, or `None`.
pub fn name_problem(raw: &str) -> Option<String> {
    let n = raw.trim();
    if n.is_empty() {
        Some("cannot be empty".into())
    } else if n.chars().count() > NAME_MAX {
        Some(format!("must be at most {NAME_MAX} characters"))
    } else if n.chars().any(char::is_control) {
        Some("cannot contain control characters".into())
    } else {
        None
    }
}

/// Why a password is too weak, or `None`. Length matters most (NIST SP 800-63B); a few patterns
/// that pass a length rule but fall to an attacker's first guesses are refused too.
pub fn password_weakness(password: &str, email: &str) -> Option<String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Some(format!("use at least {PASSWORD_MIN} characters"));
    }
    if len > PASSWORD_MAX {
        return Some(format!("use at most {PASSWORD_MAX} characters"));
    }
    let lower = password.to_lowercase();
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return Some("use more different characters".into());
    }
    const COMMON: [&str; 8] = [
        "password",
        "1234567890",
        "qwertyuiop",
        "letmein",
        "welcome",
        "iloveyou",
        "dployr",
        "admin",
    ];
    if COMMON
        .iter()
        .any(|w| lower.contains(w) && lower.len() < w.len() + 4)
    {
        return Some("this password is too easy to guess".into());
    }
    let local = email.trim().to_lowercase();
    let local = local.split('@').next().unwrap_or_default();
    if local.len() >= 3 && lower.contains(local) {
        return Some("do not use your email address in your password".into());
    }
    None
}

/// Longest build limit a service (its settings or its `dployr.toml`) may ask for.
pub const BUILD_TIMEOUT_MAX_SECS: u32 = 24 * 3600;

/// Why a build limit is out of range (1 second to 24 hours), or `None`.
pub fn build_timeout_problem(secs: u32) -> Option<String> {
    (!(1..=BUILD_TIMEOUT_MAX_SECS).contains(&secs))
        .then(|| "build_timeout_secs must be between 1 second and 24 hours".into())
}

/// Why a health check's numbers are out of range, or `None`: the dashboard and `dployr.toml`
/// are held to the same bounds.
pub fn health_numbers_problem(hc: &crate::service::HealthCheck) -> Option<String> {
    let ranges = [
        ("interval_secs", hc.interval_secs, 1, 300),
        ("timeout_secs", hc.timeout_secs, 1, 60),
        ("retries", hc.retries, 1, 1000),
        ("start_grace_secs", hc.start_grace_secs, 0, 3600),
    ];
    ranges
        .into_iter()
        .find(|(_, v, lo, hi)| !(lo..=hi).contains(&v))
        .map(|(name, _, lo, hi)| format!("{name} must be between {lo} and {hi}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalize_email("  Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.io",
            "ana@nodot",
            "a b@x.io",
            "a@b@x.io",
            "a@.x",
            "a@x.",
        ] {
            assert!(normalize_email(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let e = "ana@example.com";
        assert!(password_weakness("short", e).unwrap().contains("at least"));
        assert!(
            password_weakness("aaaaaaaaaaaa", e)
                .unwrap()
                .contains("different")
        );
        assert!(
            password_weakness("password123", e)
                .unwrap()
                .contains("guess")
        );
        assert!(
            password_weakness("ana-secret-99", e).is_some(),
            "contains the email's local part"
        );
        assert_eq!(password_weakness("correct horse battery", e), None);
        assert!(
            password_weakness(&"x1".repeat(200), e)
                .unwrap()
                .contains("at most")
        );
    }

    #[test]
    fn names_are_bounded() {
        assert_eq!(name_problem("  Prod  "), None);
        assert!(name_problem("   ").is_some());
        assert!(name_problem(&"x".repeat(81)).is_some());
        assert!(name_problem("a\u{0}b").is_some());
    }
}
