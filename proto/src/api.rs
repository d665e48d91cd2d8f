//! REST `/api/v1` bodies, shared by Base (which serialises them), the `dployr` CLI and the
//! dashboard (which deserialise them). Field names are the public contract: rename nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::deploy::DeployState;
use crate::service::{HealthCheck, RestartPolicy, Runtime, ServiceKind, ServiceSpec, Source};

mod env;
mod events;
mod files;
mod hooks;
mod team;
pub use env::{EnvList, EnvVar, ImportEnvRequest, SetEnvRequest};
pub use events::{AuditAction, Event, EventPage};
pub use files::{FileEntry, FileKind, FileListing, MkdirRequest, RenameRequest};
pub use hooks::{
    CreatedWebhook, EnableWebhookRequest, HookReply, WebhookDelivery, WebhookInfo, WebhookUrls,
};
pub use team::{
    AcceptInviteRequest, ApiToken, ChangeRoleRequest, CreateInviteRequest, CreateTokenRequest,
    CreatedInvite, CreatedToken, Invite, InviteInfo, InviteList, Member, MemberList, TokenList,
};

/// A role in a cluster, most powerful first. Serialised lowercase (`"owner"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Guest,
}

crate::names::wire_names!(Role, "role" {
    Owner => "owner",
    Admin => "admin",
    Member => "member",
    Guest => "guest",
});

impl Role {
    /// Human label for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
            Role::Guest => "Guest",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// A cluster as seen by one member: with that member's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterSummary {
    pub id: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupResponse {
    pub user: User,
    pub cluster: ClusterSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeResponse {
    pub user: User,
    pub clusters: Vec<ClusterSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateClusterRequest {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateClusterRequest {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterList {
    pub clusters: Vec<ClusterSummary>,
}

/// What the dashboard's overview page shows for one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterOverview {
    pub cluster: ClusterSummary,
    pub created_at: String,
    pub member_count: i64,
    pub instance_count: i64,
    #[serde(default)]
    pub service_count: i64,
    pub recent_events: Vec<Event>,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceList {
    pub instances: Vec<Instance>,
    /// The cursor of the next page (`?cursor=`); absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Whether a service is serving, as far as Base knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    /// Never deployed successfully.
    New,
    /// A deployment is in progress and nothing is live yet.
    Deploying,
    /// A release is live.
    Running,
    /// Stopped on request.
    Stopped,
    /// Its process keeps crashing (restarting with backoff).
    Crashed,
    /// Its process runs but its health check keeps failing since it went live.
    Unhealthy,
}

crate::names::wire_names!(ServiceStatus, "service status" {
    New => "new",
    Deploying => "deploying",
    Running => "running",
    Stopped => "stopped",
    Crashed => "crashed",
    Unhealthy => "unhealthy",
});

/// A service as the API shows it: its settings plus where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: String,
    pub cluster_id: String,
    pub instance_id: String,
    #[serde(flatten)]
    pub spec: ServiceSpec,
    pub status: ServiceStatus,
    pub live_deployment_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Variables or secrets changed after the newest deployment: redeploy to apply them.
    #[serde(default)]
    pub env_changed: bool,
}

/// `POST /api/v1/clusters/{cluster}/services`. Absent fields take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequest {
    pub name: String,
    pub instance_id: String,
    pub source: Source,
    #[serde(default)]
    pub runtime: Option<Runtime>,
    #[serde(default)]
    pub build_command: Option<String>,
    #[serde(default)]
    pub start_command: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    #[serde(default)]
    pub restart: Option<RestartPolicy>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub build_timeout_secs: Option<u32>,
    /// The repository folder the app lives in (`apps/web`); absent: the top.
    #[serde(default)]
    pub root_dir: Option<String>,
    /// `web`, `worker` or `static`; absent: detected from the runtime and the Procfile.
    #[serde(default)]
    pub kind: Option<ServiceKind>,
    /// The language version wanted (`20`, `3.12`, `>=18`); absent: what the repository asks for.
    #[serde(default)]
    pub runtime_version: Option<String>,
}

/// `PATCH /api/v1/services/{id}`: only the fields present change. For the optional settings,
/// `null` clears them (back to the runtime's defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Runtime>))]
    pub runtime: Option<Option<Runtime>>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub build_command: Option<Option<String>>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub start_command: Option<Option<String>>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u16>))]
    pub port: Option<Option<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub build_timeout_secs: Option<Option<u32>>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub root_dir: Option<Option<String>>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<ServiceKind>))]
    pub kind: Option<Option<ServiceKind>>,
    #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub runtime_version: Option<Option<String>>,
}

/// `Option<Option<T>>` for PATCH bodies: absent -> `None`, `null` -> `Some(None)`; fields using
/// it skip `None` when serialised, so a client's PATCH leaves out what it does not change.
mod patch {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceList {
    pub services: Vec<Service>,
    /// The cursor of the next page (`?cursor=`); absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentList {
    pub deployments: Vec<Deployment>,
    /// The cursor of the next page (`?cursor=`); absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
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

/// Every error body: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable (`unauthorized`, `conflict`, `invalid_input`, …).
    pub code: String,
    /// For people; never contains internal details.
    pub message: String,
    /// The request field the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trips_through_its_wire_name() {
        crate::names::assert_names_match_serde(&Role::ALL, Role::as_str, Role::parse);
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn service_status_round_trips_through_its_wire_name() {
        crate::names::assert_names_match_serde(
            &ServiceStatus::ALL,
            ServiceStatus::as_str,
            ServiceStatus::parse,
        );
    }

    #[test]
    fn patch_bodies_tell_absent_from_null() {
        let p: UpdateServiceRequest =
            serde_json::from_str(r#"{"start_command":null,"port":8080}"#).unwrap();
        assert_eq!(p.start_command, Some(None));
        assert_eq!(p.port, Some(Some(8080)));
        assert_eq!(p.build_command, None);
        assert!(serde_json::from_str::<UpdateServiceRequest>(r#"{"colour":1}"#).is_err());
    }

    #[test]
    fn error_body_omits_absent_field() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: "conflict".into(),
                message: "taken".into(),
                field: None,
            },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"conflict","message":"taken"}}"#
        );
    }
}
