//! REST bodies of a person's signed-in sessions (`/api/v1/account/sessions`): what the list
//! shows of each one, never the token or its hash, only an opaque id to end it by.

use serde::{Deserialize, Serialize};

/// One live (unexpired, not signed-out) session of the signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// Opaque (`ses_…`): `DELETE /api/v1/account/sessions/{id}` ends it.
    pub id: String,
    /// The browser and system summarised from its user agent ("Firefox 128 on Linux").
    pub device: String,
    /// The address it signed in from.
    pub ip: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC, to the minute: updated at most once a minute. Absent until first used.
    pub last_used_at: Option<String>,
    /// Whether this is the session the request came with.
    pub current: bool,
}

/// `GET /api/v1/account/sessions`: most recently used first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

/// `POST /api/v1/account/sessions/revoke-others`: how many sessions were signed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedSessions {
    pub revoked: u64,
}
