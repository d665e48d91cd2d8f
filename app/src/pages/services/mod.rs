//! The Services part of the dashboard:
//!
//! - [`list`]: `/c/{cluster}/services`, every service with its status, live.
//! - [`new`]: `/c/{cluster}/services/new`, the create form.
//! - [`show`]: `/c/{cluster}/services/{service}`, header with Deploy, Restart/Stop/Start and
//!   Delete, the deployments ([`deployments`]), the live log viewer ([`logs`]), the variables
//!   and secrets ([`env`]), the Settings form ([`settings`]) and the Deploy hooks card
//!   ([`hooks`]), live.
//!
//! Buttons a role cannot use are not shown; `control` refuses them anyway.

pub mod deployments;
pub mod domains;
pub mod env;
pub mod hooks;
pub mod list;
pub mod logs;
pub mod new;
pub mod settings;
pub mod show;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use proto::api::{Role, ServiceStatus};
use proto::service::Source;

use crate::components::layout::Session;

/// What the signed-in person may do in the cluster in the path (its services, its instances,
/// its people).
#[derive(Debug, Clone, Copy)]
pub struct Powers {
    pub cluster_id: Signal<String>,
    /// Their role there (`None`: not a member, or the list is not loaded).
    pub role: Signal<Option<Role>>,
    /// Admin and Owner: create, configure, delete.
    pub manage: Signal<bool>,
    /// Member and up: deploy, cancel, rollback, restart, stop, start, read logs.
    pub deploy: Signal<bool>,
}

pub fn powers() -> Powers {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let cluster_id = Signal::derive(move || params.read().get("cluster").unwrap_or_default());
    let role = Signal::derive(move || {
        let id = cluster_id.get();
        session
            .clusters
            .get()
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.role)
    });
    Powers {
        cluster_id,
        role,
        manage: Signal::derive(move || matches!(role.get(), Some(Role::Owner | Role::Admin))),
        deploy: Signal::derive(move || {
            matches!(role.get(), Some(Role::Owner | Role::Admin | Role::Member))
        }),
    }
}

/// The status badge (`data-status` carries the raw value for tests and styles).
#[component]
pub fn StatusBadge(status: ServiceStatus) -> impl IntoView {
    let label = status.as_str();
    view! { <span class=format!("status status-{label}") data-status=label>{label}</span> }
}

/// "github.com/you/app.git @ main" or "nginx:1.27".
pub fn source_text(s: &Source) -> String {
    match s {
        Source::Git(g) => format!("{} @ {}", g.url, g.branch),
        Source::Image(i) => i.clone(),
    }
}
