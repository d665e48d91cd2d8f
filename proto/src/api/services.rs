//! REST bodies of services: what the API shows of one, and creating, changing and listing them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::Resources;
use crate::service::{HealthCheck, RestartPolicy, Runtime, ServiceKind, ServiceSpec, Source};

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

write_body! {
    /// `POST /api/v1/clusters/{cluster}/services`. Absent fields take their defaults.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(deny_unknown_fields)]
    pub struct CreateServiceRequest {
        name: String,
        instance_id: String,
        source: Source,
        runtime: Option<Runtime> = default,
        build_command: Option<String> = default,
        start_command: Option<String> = default,
        port: Option<u16> = default,
        env: BTreeMap<String, String> = default,
        health_check: Option<HealthCheck> = default,
        restart: Option<RestartPolicy> = default,
        domains: Vec<String> = default,
        build_timeout_secs: Option<u32> = default,
        /// The repository folder the app lives in (`apps/web`); absent: the top.
        root_dir: Option<String> = default,
        /// `web`, `worker` or `static`; absent: detected from the runtime and the Procfile.
        kind: Option<ServiceKind> = default,
        /// The language version wanted (`20`, `3.12`, `>=18`); absent: what the repository asks
        /// for.
        runtime_version: Option<String> = default,
        /// Memory and CPU limits of the service and of its builds; absent: none.
        resources: Resources = default,
    }
}

write_body! {
    /// `PATCH /api/v1/services/{id}`: only the fields present change. For the optional settings,
    /// `null` clears them (back to the runtime's defaults).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(deny_unknown_fields)]
    pub struct UpdateServiceRequest {
        set name: String,
        set source: Source,
        clear runtime: Runtime,
        clear build_command: String,
        clear start_command: String,
        clear port: u16,
        set env: BTreeMap<String, String>,
        set health_check: HealthCheck,
        set restart: RestartPolicy,
        set domains: Vec<String>,
        clear build_timeout_secs: u32,
        clear root_dir: String,
        clear kind: ServiceKind,
        clear runtime_version: String,
        /// Replaces all four limits; a limit left out of it is no limit.
        set resources: Resources,
    }
}

page! {
    ServiceList { services: Service }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
