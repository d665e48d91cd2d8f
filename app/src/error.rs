//! [`AppError`]: what a server function may tell the browser. Domain errors map onto it in one
//! place (under `ssr`), and internal failures become a bare `Internal` after being logged, so no
//! database message or stack detail ever reaches a page.

use std::fmt;

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    Unauthorized(String),
    Forbidden,
    NotFound(String),
    /// A form input is wrong; `field` is the input's `name`.
    Invalid {
        field: String,
        message: String,
    },
    Conflict(String),
    RateLimited {
        retry_after_secs: u64,
    },
    SignupClosed,
    /// A sensitive action needs a code from the authenticator app first (a step-up dialog).
    StepUpRequired,
    /// The cluster requires two-factor sign-in, which this person has not turned on.
    TwoFactorRequired,
    Internal,
    /// The request never got a proper answer (offline, server restarting, bad encoding).
    Transport(String),
}

impl AppError {
    /// The message for `field`, when this error is about that input.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid { field, message } if field == name => Some(message.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unauthorized(m) | AppError::Conflict(m) => f.write_str(m),
            AppError::Forbidden => f.write_str("Your role in this cluster does not allow that."),
            AppError::NotFound(what) => {
                write!(f, "This {what} does not exist, or you cannot see it.")
            }
            AppError::Invalid { message, .. } => f.write_str(message),
            AppError::RateLimited { retry_after_secs } => {
                write!(
                    f,
                    "Too many attempts. Try again in {retry_after_secs} seconds."
                )
            }
            AppError::SignupClosed => f.write_str(
                "Sign-up is closed on this server. Ask an admin of your team for an invitation.",
            ),
            AppError::StepUpRequired => {
                f.write_str("Confirm this with a code from your authenticator app.")
            }
            AppError::TwoFactorRequired => f.write_str(
                "This cluster requires two-factor sign-in. Turn it on in your account settings.",
            ),
            AppError::Internal => {
                f.write_str("Something went wrong on our side. Please try again.")
            }
            AppError::Transport(_) => {
                f.write_str("Could not reach the server. Check your connection and try again.")
            }
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<control::DomainError> for AppError {
    fn from(e: control::DomainError) -> Self {
        use control::DomainError as D;
        match e {
            D::Unauthorized(m) => AppError::Unauthorized(m.to_string()),
            D::Forbidden => AppError::Forbidden,
            D::NotFound(what) => AppError::NotFound(what.to_string()),
            D::Invalid { field, message } => AppError::Invalid {
                field: field.to_string(),
                message,
            },
            D::Conflict(m) | D::Disabled(m) | D::TooLarge(m) | D::ForbiddenBecause(m) => {
                AppError::Conflict(m)
            }
            D::RateLimited { retry_after } => AppError::RateLimited {
                retry_after_secs: retry_after.as_secs().max(1),
            },
            D::SignupClosed => AppError::SignupClosed,
            D::StepUpRequired => AppError::StepUpRequired,
            D::TwoFactorRequired => AppError::TwoFactorRequired,
            D::Internal(source) => {
                tracing::error!(error = %source, "internal error in a server function");
                AppError::Internal
            }
        }
    }
}
