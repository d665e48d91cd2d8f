//! REST bodies of push-to-deploy webhooks: managing a service's hook
//! (`/api/v1/services/{id}/webhook`) and what the public `/hooks/{provider}/{service}` routes
//! answer a Git host. The secret goes out once, when it is made, and never again.

use serde::{Deserialize, Serialize};

/// Where each Git host posts: `POST /hooks/{provider}/{service}` on Base's public URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookUrls {
    /// Signed with `X-Hub-Signature-256`; content type `application/json`.
    pub github: String,
    /// Authenticated by `X-Gitlab-Token`.
    pub gitlab: String,
    /// `Authorization: Bearer <secret>`, optional body `{"ref": "...", "commit": "..."}`.
    pub generic: String,
}

/// The newest delivery that proved it knew the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub at: String,
    /// `github`, `gitlab` or `generic`.
    pub provider: String,
    /// `deployed`, `duplicate`, `ignored` or `pong`.
    pub outcome: String,
}

/// `GET /api/v1/services/{id}/webhook`: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    pub enabled: bool,
    /// The branch filter as set; absent: the service's own git branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The branch whose pushes deploy (the filter, else the service's branch); absent: every
    /// push deploys (an image service without a filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploys_branch: Option<String>,
    pub urls: WebhookUrls,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Who enabled or last rotated it (their name), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery: Option<WebhookDelivery>,
}

/// `POST /api/v1/services/{id}/webhook`: enable the hook, or rotate its secret (the old one
/// stops working at once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnableWebhookRequest {
    /// Deploy pushes to this branch only. Absent: keep the current filter on a rotation (none
    /// on a new hook); empty: the service's own git branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// The answer to enabling or rotating: the secret, shown this once (it is stored sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    /// `whsec_…`: GitHub's "Secret", GitLab's "Secret token", or the generic hook's bearer.
    pub secret: String,
    pub urls: WebhookUrls,
    pub webhook: WebhookInfo,
}

/// What `POST /hooks/{provider}/{service}` answers a delivery it verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum HookReply {
    /// GitHub's `ping` when the hook is added.
    Pong,
    /// A deployment was queued (202).
    Deployed { deployment_id: String },
    /// This delivery id was handled before; nothing was done again.
    Duplicate,
    /// Verified, but nothing to deploy (another branch, a deleted branch, not a push).
    Ignored { reason: String },
}
