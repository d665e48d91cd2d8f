//! REST bodies of instances, the servers running dployrd: adding, listing and their settings.

use serde::{Deserialize, Serialize};

/// Whether an instance's agent is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum InstanceStatus {
    /// Created; its agent has not enrolled yet.
    Pending,
    Online,
    Offline,
}

/// A server running dployrd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub status: InstanceStatus,
    pub created_at: String,
    pub last_seen_at: Option<String>,
    pub agent_version: Option<String>,
    pub host: Option<crate::wire::HostFacts>,
    /// Browser consoles may be opened here (Admins switch it).
    #[serde(default = "yes")]
    pub console_enabled: bool,
}

fn yes() -> bool {
    true
}

/// `PATCH /api/v1/instances/{id}`: settings of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateInstanceRequest {
    pub console_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateInstanceRequest {
    pub name: String,
}

/// The join token is shown this once; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateInstanceResponse {
    pub instance: Instance,
    pub join_token: String,
    pub install_command: String,
}

page! {
    InstanceList { instances: Instance }
}
