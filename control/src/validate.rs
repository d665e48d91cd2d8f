//! Input rules from [`proto::rules`], turned into [`DomainError`]s naming the offending field, so
//! every entry point reports the same message for the same mistake.

use proto::rules;

use crate::DomainError;

pub fn email(raw: &str) -> Result<String, DomainError> {
    rules::normalize_email(raw)
        .ok_or_else(|| DomainError::invalid("email", "enter a valid email address"))
}

/// A person's display name or a cluster name, trimmed.
pub fn display_name(field: &'static str, raw: &str) -> Result<String, DomainError> {
    match rules::name_problem(raw) {
        Some(why) => Err(DomainError::invalid(field, why)),
        None => Ok(raw.trim().to_string()),
    }
}

pub fn password(password: &str, email: &str) -> Result<(), DomainError> {
    match rules::password_weakness(password, email) {
        Some(why) => Err(DomainError::invalid("password", why)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_field() {
        assert!(matches!(
            email("nope"),
            Err(DomainError::Invalid { field: "email", .. })
        ));
        assert!(matches!(
            display_name("name", ""),
            Err(DomainError::Invalid { field: "name", .. })
        ));
        assert!(matches!(
            password("short", "a@x.io"),
            Err(DomainError::Invalid {
                field: "password",
                ..
            })
        ));
        assert_eq!(display_name("name", " Prod ").unwrap(), "Prod");
    }
}
