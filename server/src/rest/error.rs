//! The one place API errors become HTTP: `{"error":{"code","message"}}` with the right status.
//! Internal errors are logged here, once, and answered with a generic message.

use axum::Json;
use axum::response::{IntoResponse, Response};
use control::DomainError;
use http::header::{CONNECTION, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use proto::api::{ErrorBody, ErrorDetail};

/// What every handler answers: its response, or an [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug)]
pub enum ApiError {
    Domain(DomainError),
    /// A transport-level problem (bad JSON, too large, unknown route) with its status.
    Status(StatusCode, String),
    /// A refusal of the HTTP layer's own with its own code (`idempotency_key_reused`).
    Coded(StatusCode, &'static str, String),
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

pub fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    field: Option<String>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message,
            field,
        },
    };
    let mut res = (status, Json(body)).into_response();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body was not read: the client must not send its next request on this
        // connection (it would race the server closing it, and fail as an incomplete message).
        res.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

fn status_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        _ => "bad_request",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = match self {
            ApiError::Status(status, message) => {
                return error_response(status, status_code(status), message, None);
            }
            ApiError::Coded(status, code, message) => {
                return error_response(status, code, message, None);
            }
            ApiError::Domain(e) => e,
        };
        let status = match &e {
            DomainError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            DomainError::Forbidden
            | DomainError::ForbiddenBecause(_)
            | DomainError::SignupClosed
            | DomainError::StepUpRequired
            | DomainError::TwoFactorRequired => StatusCode::FORBIDDEN,
            DomainError::NotFound(_) => StatusCode::NOT_FOUND,
            DomainError::Invalid { .. } => StatusCode::BAD_REQUEST,
            DomainError::Conflict(_) => StatusCode::CONFLICT,
            DomainError::Disabled(_) => StatusCode::FORBIDDEN,
            DomainError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            DomainError::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &e {
            DomainError::Internal(_) => "something went wrong; it has been logged".to_string(),
            other => other.to_string(),
        };
        let field = match &e {
            DomainError::Invalid { field, .. } => Some(field.to_string()),
            _ => None,
        };
        let mut res = error_response(status, e.code(), message, field);
        if let DomainError::RateLimited { retry_after } = e {
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
        }
        res
    }
}
