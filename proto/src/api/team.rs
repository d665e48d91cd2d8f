//! REST bodies of a cluster's people and machines acting for them: members, invitations and
//! API tokens.

use serde::{Deserialize, Serialize};

use super::Role;

/// `GET /api/v1/clusters/{cluster}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub joined_at: String,
}

page! {
    MemberList { members: Member }
}

/// `PATCH /api/v1/clusters/{cluster}/members/{user}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    pub role: Role,
}

/// `POST /api/v1/clusters/{cluster}/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    pub email: String,
    pub role: Role,
}

/// A pending invitation, as the cluster's admins see it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invite {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
}

/// The answer to creating an invitation: the link, shown once (the token is stored hashed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedInvite {
    pub invite: Invite,
    pub invite_url: String,
    /// True when the link was also emailed (SMTP configured).
    #[serde(default)]
    pub emailed: bool,
}

page! {
    InviteList { invites: Invite }
}

/// `GET /api/v1/invites/{token}`: what the person holding the link is invited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteInfo {
    pub cluster_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires_at: String,
}

write_body! {
    /// `POST /api/v1/invites/{token}/accept`: empty with a session (join as yourself), or the new
    /// account's details (sign up and join, even with open sign-up off).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(deny_unknown_fields)]
    pub struct AcceptInviteRequest {
        email: Option<String> = default,
        password: Option<String> = default,
        name: Option<String> = default,
    }
}

/// An API token as listed (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_by: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

page! {
    TokenList { tokens: ApiToken }
}

/// `POST /api/v1/clusters/{cluster}/tokens`. No expiry when `expires_in_days` is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// The new token: `token` (`dp_…`) is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: String,
    pub api_token: ApiToken,
}
