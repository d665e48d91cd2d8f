//! What can go wrong in a command, and the exit code CI sees for it. The codes are part of the
//! CLI's contract (scripts branch on them), so they live in one place:
//! 0 done (or the deploy is live), 1 the deploy or action failed, 2 usage, 3 auth, 4 timeout,
//! 5 anything else (Base unreachable, server error).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The work was done but did not succeed (a failed deploy).
    Failed,
    /// The command line or its input is wrong.
    Usage,
    /// No, a bad or an expired token; or not allowed.
    Auth,
    /// `--timeout` passed before the deploy ended.
    Timeout,
    /// Base unreachable, 5xx, unexpected answers.
    Other,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::Auth => 3,
            Kind::Timeout => 4,
            Kind::Other => 5,
        }
    }
}

/// An error for people: what happened, and (when we know) what to do next.
#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(kind: Kind, message: impl Into<String>) -> CliError {
        CliError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(Kind::Usage, message)
    }

    pub fn other(message: impl Into<String>) -> CliError {
        CliError::new(Kind::Other, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::other(e.to_string())
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes: Vec<i32> = [
            Kind::Failed,
            Kind::Usage,
            Kind::Auth,
            Kind::Timeout,
            Kind::Other,
        ]
        .into_iter()
        .map(Kind::exit_code)
        .collect();
        assert_eq!(codes, [1, 2, 3, 4, 5]);
    }
}
