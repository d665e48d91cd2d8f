//! REST bodies of deployments and what they leave behind: their steps, lists and log lines.

use serde::{Deserialize, Serialize};

use super::Service;
use crate::deploy::DeployState;

/// One step of a deployment, when Base recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transition {
    pub state: DeployState,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub id: String,
    pub service_id: String,
    pub state: DeployState,
    /// The branch, tag or commit asked for (`None`: the service's branch).
    pub git_ref: Option<String>,
    /// The exact commit fetched, once known.
    pub commit: Option<String>,
    /// Why it failed, was cancelled or timed out.
    pub reason: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub transitions: Vec<Transition>,
    /// The build plan dployrd chose (runtime, version, package manager, each command and why),
    /// one line each, once the build started; empty before, and for image deployments.
    #[serde(default)]
    pub plan: Vec<String>,
}

/// One service with its recent deployments (newest first): what the service page shows and what
/// `GET /api/v1/services/{id}/live` pushes after every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceDetail {
    pub service: Service,
    pub deployments: Vec<Deployment>,
}

/// `POST /api/v1/services/{id}/deployments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDeploymentRequest {
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
}

page! {
    DeploymentList { deployments: Deployment }
}

/// One line of a service's logs, as `GET …/logs` sends it (one JSON object per line, or one
/// server-sent event each). `seq` orders lines across reconnects and is what `since` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub seq: i64,
    pub at: String,
    pub stream: crate::wire::LogStream,
    pub deployment_id: Option<String>,
    pub line: String,
}
