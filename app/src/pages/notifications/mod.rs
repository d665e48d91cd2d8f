//! `/c/{cluster}/notifications`: where the cluster's alerts go. Everyone from Member up sees the
//! channels, what each is subscribed to and how its newest delivery went; Owners and Admins add,
//! test and remove them. A webhook's signing secret is shown once, after the creation.
//!
//! - [`form`]: the new-channel form.
//! - [`channel`]: one channel's row, its Test button and its deliveries with every attempt.

mod channel;
mod form;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use proto::api::{AlertKind, Role};

use crate::api::notifications::{CreateChannel, DeleteChannel, list_channels};
use crate::components::forms::{FormError, error_of, refetched};
use crate::components::layout::Session;
use crate::components::loaded::Loaded;
use crate::components::page::PageHeader;

/// Each alert kind a channel can subscribe to, as people read it (in the order the form lists
/// them).
const ALERTS: [(AlertKind, &str); 10] = [
    (AlertKind::DeployFailed, "Deploy failed"),
    (AlertKind::DeploySucceeded, "Deploy succeeded"),
    (AlertKind::ServiceUnhealthy, "Service unhealthy"),
    (AlertKind::ServiceRecovered, "Service recovered"),
    (AlertKind::ServiceCrashLooping, "Service crash-looping"),
    (AlertKind::InstanceOffline, "Instance offline"),
    (AlertKind::InstanceOnline, "Instance back online"),
    (AlertKind::CertificateFailing, "Certificate failing"),
    (AlertKind::DiskHigh, "Disk above threshold"),
    (AlertKind::MemoryHigh, "Memory above threshold"),
];

/// `kind` as people read it.
fn alert_label(kind: AlertKind) -> &'static str {
    ALERTS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Test", |(_, label)| label)
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let cluster_id = Signal::derive(move || params.read().get("cluster").unwrap_or_default());
    let manages = Signal::derive(move || {
        session
            .clusters
            .get()
            .into_iter()
            .find(|c| c.id == cluster_id.get())
            .is_some_and(|c| matches!(c.role, Role::Owner | Role::Admin))
    });
    let create = ServerAction::<CreateChannel>::new();
    let delete = ServerAction::<DeleteChannel>::new();
    let channels = refetched(
        cluster_id,
        [create.version(), delete.version()],
        list_channels,
    );
    let delete_error = error_of(delete.value());
    view! {
        <Title text="Notifications" />
        <PageHeader title="Notifications">
            "Where this cluster's alerts go: deploys, unhealthy and crash-looping services, instances going offline, failing certificates, full disks and memory."
        </PageHeader>
        <Loaded resource=channels keep=true let:list>
            {if list.is_empty() {
                view! { <p class="muted" id="no-channels">"No channels yet: nobody is told when something goes wrong."</p> }.into_any()
            } else {
                let rows = list
                    .into_iter()
                    .map(|ch| view! { <channel::ChannelCard ch cluster_id delete manages /> })
                    .collect_view();
                view! { <div class="channel-list" id="channels">{rows}</div> }.into_any()
            }}
        </Loaded>
        <FormError error=delete_error />
        {move || if manages.get() {
            view! { <form::NewChannel cluster_id create /> }.into_any()
        } else {
            view! { <p class="muted">"Only Owners and Admins add, test or remove channels."</p> }.into_any()
        }}
    }
}
