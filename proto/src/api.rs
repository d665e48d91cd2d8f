//! REST `/api/v1` bodies, shared by Base (which serialises them), the `dployr` CLI and the
//! dashboard (which deserialise them). Field names are the public contract: rename nothing.

use serde::{Deserialize, Serialize};

/// `page! { /// doc \n Name { items: Item } }`: one page of a list, the items under their own
/// field name and the cursor of the next page, written once for every paged list. A page that
/// runs another way says so with `next: "…"`, the cursor's description.
macro_rules! page {
    ($(#[$doc:meta])* $name:ident { $items:ident: $item:ty, next: $next:literal $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name {
            pub $items: Vec<$item>,
            #[doc = $next]
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
        }
    };
    ($(#[$doc:meta])* $name:ident { $items:ident: $item:ty $(,)? }) => {
        page! {
            $(#[$doc])*
            $name {
                $items: $item,
                next: " The cursor of the next page (`?cursor=`); absent on the last one.",
            }
        }
    };
}

/// `write_body! { #[…] pub struct Name { … } }`: a body that writes something, each field marked
/// with how the body takes it, so each rule is written once:
/// - `field: T`: required;
/// - `field: T = default`: absent takes `T`'s default;
/// - `set field: T`: absent leaves the setting as it is;
/// - `clear field: T`: the same, and `null` clears the setting (back to its default).
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
            #[serde(default, with = "crate::api::patch", skip_serializing_if = "Option::is_none")]
            #[cfg_attr(feature = "openapi", schema(value_type = Option<$t>))]
            pub $f: Option<Option<$t>>,
        ] $($rest)*);
    };
    (@fields $head:tt [$($done:tt)*] $(#[$m:meta])* $f:ident: $t:ty, $($rest:tt)*) => {
        write_body!(@fields $head [$($done)* $(#[$m])* pub $f: $t,] $($rest)*);
    };
}

mod account;
mod clusters;
mod deployments;
mod domains;
mod env;
mod events;
mod files;
mod hooks;
mod instances;
mod metrics;
mod notifications;
mod oidc;
mod services;
mod sessions;
mod team;
mod two_factor;
pub use account::{
    ChangePasswordRequest, LoginRequest, LoginResponse, MeResponse, SignupRequest, SignupResponse,
    User,
};
pub use clusters::{
    ClusterList, ClusterOverview, ClusterSummary, CreateClusterRequest, UpdateClusterRequest,
};
pub use deployments::{
    CreateDeploymentRequest, Deployment, DeploymentList, LogLine, ServiceDetail, Transition,
};
pub use domains::{
    AddDomainRequest, CertificateStatus, DefaultHost, DnsRecord, Domain, DomainCertificate,
    DomainList, DomainStatus, UpdateDomainRequest, UploadCertificateRequest,
};
pub use env::{EnvList, EnvVar, ImportEnvRequest, SetEnvRequest};
pub use events::{AuditAction, Event, EventFilter, EventPage};
pub use files::{FileEntry, FileKind, FileListing, MkdirRequest, RenameRequest};
pub use hooks::{
    CreatedWebhook, EnableWebhookRequest, HookReply, WebhookDelivery, WebhookInfo, WebhookUrls,
};
pub use instances::{
    CreateInstanceRequest, CreateInstanceResponse, Instance, InstanceList, InstanceStatus,
    UpdateInstanceRequest,
};
pub use metrics::{HostPoint, MetricPoint, MetricSeries, MetricsQuery, RequestPoint};
pub use notifications::{
    AlertKind, Channel, ChannelKind, CreateChannelRequest, CreatedChannel, Delivery,
    DeliveryAttempt, Thresholds, UpdateChannelRequest,
};
pub use oidc::{
    CreateOidcBindingRequest, OidcBinding, OidcBindingList, OidcExchangeRequest,
    OidcExchangeResponse, OidcProvider,
};
pub use services::{
    CreateServiceRequest, Service, ServiceList, ServiceStatus, UpdateServiceRequest,
};
pub use sessions::{RevokedSessions, SessionInfo, SessionList};
pub use team::{
    AcceptInviteRequest, ApiToken, ChangeRoleRequest, CreateInviteRequest, CreateTokenRequest,
    CreatedInvite, CreatedToken, Invite, InviteInfo, InviteList, Member, MemberList, TokenList,
};
pub use two_factor::{
    BackupCodes, LoginChallenge, LoginCodeRequest, RequireTwoFactorRequest, TwoFactorCodeRequest,
    TwoFactorSetup, TwoFactorStatus,
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

/// `Option<Option<T>>` for PATCH bodies: absent -> `None`, `null` -> `Some(None)`; fields using
/// it skip `None` when serialised, so a client's PATCH leaves out what it does not change.
pub(crate) mod patch {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trips_through_its_wire_name() {
        crate::names::assert_names_match_serde(&Role::ALL, Role::as_str, Role::parse);
        assert_eq!(Role::parse("root"), None);
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
