//! Input rules, checked once at the domain edge so every entry point reports the same message for
//! the same mistake. Each returns the normalised value.

use crate::DomainError;

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;
pub const NAME_MAX: usize = 80;
pub const EMAIL_MAX: usize = 254;

/// Trimmed and lowercased; one `@` with something on both sides and a dot in the domain.
pub fn email(raw: &str) -> Result<String, DomainError> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= EMAIL_MAX
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && match e.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid { Ok(e) } else { Err(DomainError::invalid("email", "enter a valid email address")) }
}

/// A person's display name or a cluster name: 1-80 printable characters, trimmed.
pub fn display_name(field: &'static str, raw: &str) -> Result<String, DomainError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(DomainError::invalid(field, "cannot be empty"));
    }
    if n.chars().count() > NAME_MAX {
        return Err(DomainError::invalid(field, format!("must be at most {NAME_MAX} characters")));
    }
    if n.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, "cannot contain control characters"));
    }
    Ok(n.to_string())
}

/// Why a password is too weak, or `None`. Length matters most (NIST 800-63B); we also refuse a
/// handful of patterns that pass a length rule but fall to the first guesses of any attacker.
pub fn password_weakness(password: &str, email: &str) -> Option<String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Some(format!("use at least {PASSWORD_MIN} characters"));
    }
    if len > PASSWORD_MAX {
        return Some(format!("use at most {PASSWORD_MAX} characters"));
    }
    let lower = password.to_lowercase();
    let distinct = {
        let mut c: Vec<char> = lower.chars().collect();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    if distinct < 4 {
        return Some("use more different characters".into());
    }
    const COMMON: [&str; 8] =
        ["password", "1234567890", "qwertyuiop", "letmein", "welcome", "iloveyou", "dployr", "admin"];
    if COMMON.iter().any(|w| lower.contains(w) && lower.len() < w.len() + 4) {
        return Some("this password is too easy to guess".into());
    }
    let local = email.split('@').next().unwrap_or_default();
    if local.len() >= 3 && lower.contains(local) {
        return Some("do not use your email address in your password".into());
    }
    None
}

pub fn password(password: &str, email: &str) -> Result<(), DomainError> {
    match password_weakness(password, email) {
        Some(why) => Err(DomainError::invalid("password", why)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(email("  Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@x.io", "ana@nodot", "a b@x.io", "a@b@x.io", "a@.x", "a@x."] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let e = "ana@example.com";
        assert!(password_weakness("short", e).unwrap().contains("at least"));
        assert!(password_weakness("aaaaaaaaaaaa", e).unwrap().contains("different"));
        assert!(password_weakness("password123", e).unwrap().contains("guess"));
        assert!(password_weakness("ana-secret-99", e).is_some(), "contains the email's local part");
        assert_eq!(password_weakness("correct horse battery", e), None);
        assert!(password_weakness(&"x1".repeat(200), e).unwrap().contains("at most"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(display_name("name", "  Prod  ").unwrap(), "Prod");
        assert!(display_name("name", "   ").is_err());
        assert!(display_name("name", &"x".repeat(81)).is_err());
        assert!(display_name("name", "a\u{0}b").is_err());
    }
}
