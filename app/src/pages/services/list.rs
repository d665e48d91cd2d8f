//! `/c/{cluster}/services`: the cluster's services with their instance, runtime, status and live
//! deployment. Server-rendered from resources; once hydrated, a WebSocket
//! (`/api/v1/clusters/{id}/services/live`) pushes the fresh list after every service or
//! deployment change.

use leptos::prelude::*;
use leptos_meta::Title;
use proto::api::{Instance, Service, ServiceList};

use super::{StatusBadge, powers};
use crate::api::list_instances;
use crate::api::services::list_services;
use crate::components::events::short_time;
use crate::components::live;
use crate::components::loaded::Loaded;
use crate::components::page::{ColumnHeads, EmptyState, PageHeader};

#[component]
pub fn ServicesPage() -> impl IntoView {
    let p = powers();
    let initial = Resource::new_blocking(
        move || p.cluster_id.get(),
        |cluster| async move {
            let services = list_services(cluster.clone()).await?;
            let instances = list_instances(cluster).await?;
            Ok::<_, crate::error::AppError>((services, instances))
        },
    );
    let live: RwSignal<Option<ServiceList>> = RwSignal::new(None);

    view! {
        <Title text="Services" />
        <PageHeader title="Services" actions=move || view! {
            {move || p.manage.get().then(|| view! {
                <div class="page-actions">
                    <a class="btn btn-primary" id="new-service"
                        href=format!("/c/{}/services/new", p.cluster_id.get())>"New service"</a>
                </div>
            })}
        }>
            "Apps and sites this cluster runs, each on one of its instances."
        </PageHeader>
        <Loaded resource=initial let:loaded>
            {
                let (first, instances) = loaded;
                // Subscribed here, once this part is hydrated (see components::live).
                live::follow(
                    move || format!("/api/v1/clusters/{}/services/live", p.cluster_id.get()),
                    live,
                );
                let first = StoredValue::new(first);
                let instances = StoredValue::new(instances);
                let rows = move || live.get().map(|l| l.services).unwrap_or_else(|| first.get_value());
                view! {
                    <section class="card" aria-labelledby="services-title">
                        <div class="card-header">
                            <h2 id="services-title">"All services"</h2>
                            <span class="count" id="service-count">{move || rows().len()}</span>
                        </div>
                        {move || {
                            let list = rows();
                            if list.is_empty() {
                                view! { <Empty manage=p.manage.get() cluster=p.cluster_id.get() /> }.into_any()
                            } else {
                                view! {
                                    <div class="card-body">
                                        <ServiceTable list instances=instances.get_value() cluster=p.cluster_id.get() />
                                    </div>
                                }.into_any()
                            }
                        }}
                    </section>
                }
            }
        </Loaded>
    }
}

#[component]
fn Empty(manage: bool, cluster: String) -> impl IntoView {
    view! {
        <EmptyState
            class="card-body empty-state"
            icon="service"
            headline="No services yet"
            text="A service is an app built from a git repository or a container image, run on one of your instances."
        >
            {manage.then(|| view! {
                <a class="btn btn-primary" href=format!("/c/{cluster}/services/new")>"Create your first service"</a>
            })}
        </EmptyState>
    }
}

#[component]
fn ServiceTable(list: Vec<Service>, instances: Vec<Instance>, cluster: String) -> impl IntoView {
    let instance_name = move |id: &str| {
        instances
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| "–".into())
    };
    view! {
        <table class="table service-table">
            <thead>
                <tr>
                    <ColumnHeads names=&["Name", "Instance", "Runtime", "Status", "Live deployment", "Updated"] />
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|s| {
                        let href = format!("/c/{cluster}/services/{}", s.id);
                        let runtime = s.spec.runtime.map(|r| r.as_str()).unwrap_or("auto");
                        view! {
                            <tr data-service=s.id.clone()>
                                <td class="service-name"><a href=href>{s.spec.name.clone()}</a></td>
                                <td class="muted">{instance_name(&s.instance_id)}</td>
                                <td>{runtime}</td>
                                <td><StatusBadge status=s.status /></td>
                                <td class="muted mono">{s.live_deployment_id.clone().unwrap_or_else(|| "–".into())}</td>
                                <td class="muted">{short_time(&s.updated_at)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
