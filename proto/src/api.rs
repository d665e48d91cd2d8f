//! REST `/api/v1` bodies, shared by Base (which serialises them), the `dployr` CLI and the
//! dashboard (which deserialise them). Field names are the public contract: rename nothing.

use serde::{Deserialize, Serialize};

/// `page! { /// doc \n Name { items: Item } }`: one page of a list, the items under their own
/// field name and the cursor of the next page, written once for every paged list. A page that
/// runs another way says so with `next: "…"`, the cursor's description.
macro_rules! page {
    ($(#[$doc:meta])* $name:ident { $items:ident: $item:ty $(, next: $next:literal)? $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name {
            pub $items: Vec<$item>,
            #[doc = page!(@next $($next)?)]
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
        }
    };
    (@next) => {
        " The cursor of the next page (`?cursor=`); absent on the last one."
    };
    (@next $next:literal) => {
        $next
    };
}

mod account;
mod clusters;
mod deployments;
mod env;
mod events;
mod files;
mod hooks;
mod instances;
mod services;
mod team;
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
pub use env::{EnvList, EnvVar, ImportEnvRequest, SetEnvRequest};
pub use events::{AuditAction, Event, EventPage};
pub use files::{FileEntry, FileKind, FileListing, MkdirRequest, RenameRequest};
pub use hooks::{
    CreatedWebhook, EnableWebhookRequest, HookReply, WebhookDelivery, WebhookInfo, WebhookUrls,
};
pub use instances::{
    CreateInstanceRequest, CreateInstanceResponse, Instance, InstanceList, InstanceStatus,
    UpdateInstanceRequest,
};
pub use services::{
    CreateServiceRequest, Service, ServiceList, ServiceStatus, UpdateServiceRequest,
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
