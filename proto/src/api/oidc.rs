//! REST bodies of CI OIDC federation: a cluster's bindings (which issuer and which repository
//! may act, with which role: `/api/v1/clusters/{id}/oidc/bindings`) and the exchange of a CI
//! job's identity token for a short-lived API token (`POST /api/v1/auth/oidc/exchange`).

use serde::{Deserialize, Serialize};

use super::Role;

/// Where the identity token comes from; it decides which claims a binding checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OidcProvider {
    /// GitHub Actions: `repository` (exact), optional `ref` and `environment`; pull-request
    /// events (`event_name` `pull_request`, `pull_request_target`) are refused.
    Github,
    /// GitLab CI: `project_path` (exact), optional `ref` and `environment`; `ref_protected`
    /// must be `"true"`.
    Gitlab,
}

crate::names::wire_names!(OidcProvider, "OIDC provider" {
    Github => "github",
    Gitlab => "gitlab",
});

impl OidcProvider {
    /// The issuer a binding trusts when it names none.
    pub fn default_issuer(self) -> &'static str {
        match self {
            OidcProvider::Github => "https://token.actions.githubusercontent.com",
            OidcProvider::Gitlab => "https://gitlab.com",
        }
    }

    /// The claim holding the repository's path.
    pub fn repository_claim(self) -> &'static str {
        match self {
            OidcProvider::Github => "repository",
            OidcProvider::Gitlab => "project_path",
        }
    }
}

/// A trusted issuer and the claims its tokens must carry to act in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcBinding {
    pub id: String,
    pub provider: OidcProvider,
    /// The `iss` claim, exactly; its keys are found through `/.well-known/openid-configuration`.
    pub issuer: String,
    /// The `aud` claim the token must carry.
    pub audience: String,
    /// `owner/name` (GitHub `repository`, GitLab `project_path`), exactly.
    pub repository: String,
    /// Only this `ref` (`refs/heads/main`; GitLab: `main`), when set.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// Only jobs of this deployment environment, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The role the exchanged token gets (never more than its creator's now).
    pub role: Role,
    pub created_by: Option<String>,
    pub created_at: String,
}

page! {
    OidcBindingList { bindings: OidcBinding }
}

/// `POST /api/v1/clusters/{cluster}/oidc/bindings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOidcBindingRequest {
    pub provider: OidcProvider,
    /// Absent: the provider's public issuer. `https://` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Absent: Base's public URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    pub repository: String,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// `admin`, `member` or `guest`; never `owner`.
    pub role: Role,
}

/// `POST /api/v1/auth/oidc/exchange`: a CI job's identity token (a JWT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OidcExchangeRequest {
    pub token: String,
    /// Which cluster, when bindings of several clusters match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// The answer to an exchange: a `dp_` API token for one cluster, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcExchangeResponse {
    pub token: String,
    pub token_id: String,
    pub cluster_id: String,
    pub role: Role,
    /// RFC 3339; at most one hour away.
    pub expires_at: String,
    pub binding_id: String,
}
