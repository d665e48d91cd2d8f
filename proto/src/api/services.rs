//! REST bodies of services: what the API shows of one, and creating, changing and listing them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// `write_body! { #[…] pub struct Name { … } }`: a body that writes a service's settings, each
/// field marked with how the body takes it, so each rule is written once:
/// - `field: T`: required;
/// - `field: T = default`: absent takes `T`'s default;
/// - `set field: T`: absent leaves the setting as it is;
/// - `clear field: T`: the same, and `null` clears the setting (back to the runtime's default).
macro_rules! write_body {
    ($(#[$m:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        write_body!(@fields [$(#[$m])* pub struct $name] [] $($fields)*);
    };
    (@fields [$($head:tt)*] [$($done:tt)*]) => {
        $($head)* { $($done)* }
    };
    (@fields $head:tt [$($done:tt)*] $(#[$m:meta])* $f:ident: $t:ty = default, $($rest:tt)*) => {
        write_body!(@fields $head [$($done)* $(#[$m])* #[serde(default)] pub $f: $t,] $($rest)*);
    };
    (@fields $head:tt [$($done:tt)*] $(#[$m:meta])* set $f:ident: $t:ty, $($rest:tt)*) => {
        write_body!(@fields $head [$($done)*
            $(#[$m])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub $f: Option<$t>,
        ] $($rest)*);
    };
    (@fields $head:tt [$($done:tt)*] $(#[$m:meta])* clear $f:ident: $t:ident, $($rest:tt)*) => {
        write_body!(@fields $head [$($done)*
            $(#[$m])*
            #[serde(default, with = "patch", skip_serializing_if = "Option::is_none")]
            #[cfg_attr(feature = "openapi", schema(value_type = Option<$t>))]
            pub $f: Option<Option<$t>>,
        ] $($rest)*);
    };
    (@fields $head:tt [$($done:tt)*] $(#[$m:meta])* $f:ident: $t:ty, $($rest:tt)*) => {
        write_body!(@fields $head [$($done)* $(#[$m])* pub $f: $t,] $($rest)*);
    };
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
        /// The language version wanted (`20`, `3.12`, `>=18`); absent: what the repository asks for.
        runtime_version: Option<String> = default,
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
    }
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
