//! `/c/{cluster}`: the cluster at a glance: how many instances and services it has (with empty
//! states that say what will appear and how), and its recent events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use proto::api::{ClusterOverview, Role};

use crate::api::get_cluster_overview;
use crate::components::events::{EventList, short_time};
use crate::components::loaded::Loaded;
use crate::components::page::{EmptyState, PageHeader};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let params = use_params_map();
    let cluster = move || params.read().get("cluster").unwrap_or_default();
    let overview = Resource::new_blocking(cluster, get_cluster_overview);
    view! {
        <Loaded resource=overview let:o>
            <Overview o />
        </Loaded>
    }
}

#[component]
fn Overview(o: ClusterOverview) -> impl IntoView {
    let c = o.cluster;
    let members = match o.member_count {
        1 => "1 member".to_string(),
        n => format!("{n} members"),
    };
    let can_manage = matches!(c.role, Role::Owner | Role::Admin);
    let settings = format!("/c/{}/settings", c.id);
    view! {
        <Title text=c.name.clone() />
        <PageHeader title=c.name.clone() actions=move || view! {
            <div class="page-actions">
                {can_manage.then(|| view! { <a class="btn btn-secondary" href=settings>"Settings"</a> })}
            </div>
        }>
            <span class=format!("badge badge-{}", c.role.as_str())>{c.role.label()}</span>
            " · " {members} " · created " {short_time(&o.created_at)}
        </PageHeader>
        <div class="grid">
            <EmptyCard
                id="instances"
                title="Instances"
                icon="server"
                count=o.instance_count
                headline=if o.instance_count == 0 { "No instances yet" } else { "Your servers" }
                text="Instances are your Linux servers. Connect one with a single install command: its agent, dployrd, dials out to this dashboard, so you never open an inbound port."
                action=if o.instance_count == 0 { "Add an instance" } else { "View instances" }
                href=Some(format!("/c/{}/instances", c.id))
            />
            <EmptyCard
                id="services"
                title="Services"
                icon="service"
                headline=if o.service_count == 0 { "No services yet" } else { "Your apps" }
                text="A service is one app: an API, a worker or a static site, deployed from a git repository or a Docker image to one of your instances."
                action=if o.service_count == 0 && can_manage { "New service" } else { "View services" }
                count=o.service_count
                href=Some(if o.service_count == 0 && can_manage {
                    format!("/c/{}/services/new", c.id)
                } else {
                    format!("/c/{}/services", c.id)
                })
            />
            <section class="card" aria-labelledby="events-title">
                <div class="card-header">
                    <h2 id="events-title">"Recent events"</h2>
                </div>
                <div class="card-body">
                    {if o.recent_events.is_empty() {
                        view! {
                            <EmptyState
                                icon="events"
                                headline="Nothing has happened yet"
                                text="Every change in this cluster (deploys, settings, members) is recorded here with who, when and from where."
                            />
                        }
                            .into_any()
                    } else {
                        view! { <EventList events=o.recent_events /> }.into_any()
                    }}
                </div>
            </section>
        </div>
    }
}

/// A card for a kind of thing the cluster has none of yet, saying what will appear there.
#[component]
fn EmptyCard(
    id: &'static str,
    title: &'static str,
    icon: &'static str,
    headline: &'static str,
    text: &'static str,
    action: &'static str,
    count: i64,
    /// Where the action leads; `None` while the feature is still to come.
    href: Option<String>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby=format!("{id}-title")>
            <div class="card-header">
                <h2 id=format!("{id}-title")>{title}</h2>
                <span class="count">{count}</span>
            </div>
            <EmptyState class="card-body empty-state" icon headline text>
                {match href {
                    Some(href) => view! { <a class="btn btn-primary" href=href>{action}</a> }.into_any(),
                    None => view! { <span class="btn btn-secondary" aria-disabled="true">{action}</span> }.into_any(),
                }}
            </EmptyState>
        </section>
    }
}
