//! The domain's one error type. Every entry point (server fns, REST, WebSockets) maps it to its own
//! transport in one place; `Internal` carries detail for the log only, never for the client.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Not signed in, bad or expired session, or wrong credentials (one message for all).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Signed in, but the role does not allow the action.
    #[error("not allowed for your role")]
    Forbidden,
    /// Signed in, but the role does not allow this particular change; the message says which
    /// part and why (a variable only Admins may set).
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Absent, or not visible to this user (we do not reveal which).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input failed validation; `field` names the offending input.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    /// Switched off by a setting (the console on an instance): refused whatever the role.
    #[error("{0}")]
    Disabled(String),
    /// A body over its cap (an upload).
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; try again after the given time.
    #[error("too many attempts, try again in {} seconds", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    /// A sensitive action on an account with two-factor on needs a code entered on this session
    /// in the last 5 minutes (step-up).
    #[error("confirm this with a code from your authenticator app (step-up required)")]
    StepUpRequired,
    /// The cluster requires two-factor sign-in, which the person has not turned on.
    #[error("this cluster requires two-factor sign-in: turn it on in your account settings")]
    TwoFactorRequired,
    /// Sign-up is closed on this Base.
    #[error("sign-up is closed on this server: ask an admin for an invitation")]
    SignupClosed,
    #[error("internal error")]
    Internal(#[source] anyhow_like::Boxed),
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// Stable machine-readable code used in REST error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Unauthorized(_) => "unauthorized",
            DomainError::Forbidden | DomainError::ForbiddenBecause(_) => "forbidden",
            DomainError::NotFound(_) => "not_found",
            DomainError::Invalid { .. } => "invalid_input",
            DomainError::Conflict(_) => "conflict",
            DomainError::Disabled(_) => "disabled",
            DomainError::TooLarge(_) => "too_large",
            DomainError::RateLimited { .. } => "rate_limited",
            DomainError::SignupClosed => "signup_closed",
            DomainError::StepUpRequired => "step_up_required",
            DomainError::TwoFactorRequired => "two_factor_required",
            DomainError::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        DomainError::Internal(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for DomainError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        DomainError::Internal(Box::new(e))
    }
}

/// A boxed source error, so `Internal` can wrap anything without an anyhow dependency here.
pub mod anyhow_like {
    pub type Boxed = Box<dyn std::error::Error + Send + Sync + 'static>;
}
