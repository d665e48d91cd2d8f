//! REST bodies of two-factor sign-in: enrolment, backup codes, the second step of a sign-in,
//! step-up, and a cluster's requirement of it.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/account/2fa`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// Unused backup codes (0 when two-factor is off).
    pub backup_codes_left: u32,
}

/// `POST /api/v1/account/2fa/setup`: shown this once; two-factor is on only after a code
/// confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorSetup {
    /// The secret in base32, for typing into an app.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    pub otpauth_uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

/// A code from the authenticator app (6 digits) or, where accepted, a backup code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorCodeRequest {
    pub code: String,
}

/// Ten single-use backup codes, shown once (`POST /api/v1/account/2fa/confirm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackupCodes {
    pub backup_codes: Vec<String>,
}

/// `202` from `POST /api/v1/auth/login` for an account with two-factor on: no session yet;
/// send `challenge` with a code to `POST /api/v1/auth/login/2fa` within `expires_in_secs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginChallenge {
    pub challenge: String,
    pub expires_in_secs: u64,
}

/// `POST /api/v1/auth/login/2fa`: the challenge and a code (or a backup code, then spent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginCodeRequest {
    pub challenge: String,
    pub code: String,
}

/// `PUT /api/v1/clusters/{id}/require-2fa` (Owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequireTwoFactorRequest {
    pub required: bool,
}
