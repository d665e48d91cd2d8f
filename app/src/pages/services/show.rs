//! `/c/{cluster}/services/{service}`: one service. The header says where it stands and offers
//! Deploy (Member and up, with an optional ref), Restart / Stop / Start once it has a live
//! release (Member and up) and Delete (Admin and up, after confirming); below are its
//! deployments, the live log viewer (Member and up: Guests do not read output), its metrics
//! charts (CPU, memory, restarts; every member), its Settings and its Domains (managed by Admin
//! and up) and (Admin and up) its Deploy hooks. Server-rendered from a resource; once hydrated,
//! `/api/v1/services/{id}/live` pushes the service and its deployments after every change, so a
//! deployment shows up and moves through its steps without a reload.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use proto::api::{Service, ServiceDetail};

use super::deployments::DeploymentList;
use super::domains::DomainsPanel;
use super::env::EnvPanel;
use super::hooks::HooksPanel;
use super::logs::LogViewer;
use super::settings::ServiceSettings;
use super::{Powers, StatusBadge, powers, source_text};
use crate::api::services::{DeleteService, DeployService, ServiceAction, get_service_detail};
use crate::components::forms::{FieldError, FormError, SubmitButton, error_of, field_error};
use crate::components::live;
use crate::components::metrics::{MetricsCharts, SERVICE_CHARTS, Source};
use crate::pages::not_found::ErrorPage;

#[component]
pub fn ServicePage() -> impl IntoView {
    let p = powers();
    let params = use_params_map();
    let service_id = move || params.read().get("service").unwrap_or_default();
    let initial = Resource::new_blocking(service_id, get_service_detail);
    let live: RwSignal<Option<ServiceDetail>> = RwSignal::new(None);

    // Sections with resources of their own stay outside the Suspense bodies: the server runs a
    // body more than once, and a resource (or Suspense) made there each time would give the
    // browser other data to hydrate than the server rendered.
    let panels_id = StoredValue::new(service_id());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(first) => {
                        // Subscribed here, once this part is hydrated (see components::live).
                        live::follow(move || format!("/api/v1/services/{}/live", service_id()), live);
                        let id = first.service.id.clone();
                        let first = StoredValue::new(first);
                        // Memos: a push equal to what is shown (the socket's first frame,
                        // usually) redraws nothing, so nothing moves under the pointer.
                        let detail = Signal::from(Memo::new(move |_| live.get().unwrap_or_else(|| first.get_value())));
                        // The deployment whose output the log viewer shows; `None`: all of them.
                        let selected = RwSignal::new(None::<String>);
                        view! {
                            <Header detail p />
                            <DeploymentList
                                service_id=id.clone()
                                deployments=Signal::from(Memo::new(move |_| detail.get().deployments))
                                may_cancel=p.deploy
                                selected
                                may_read_logs=p.deploy
                            />
                            {move || p.deploy.get().then(|| view! {
                                <LogViewer service_id=id.clone() deployment=selected />
                            })}
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
        <MetricsCharts id="service-metrics" title="Metrics" specs=SERVICE_CHARTS
            source=Signal::stored(Some(Source::Service(panels_id.get_value()))) />
        {move || p.deploy.get().then(|| view! { <EnvPanel service_id=panels_id.get_value() /> })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                initial.await.ok().map(|first| view! { <ServiceSettings service=first.service may=p.manage /> })
            })}
        </Suspense>
        <DomainsPanel service_id=panels_id.get_value() may=p.manage />
        {move || p.manage.get().then(|| view! { <HooksPanel service_id=panels_id.get_value() /> })}
    }
}

#[component]
fn Header(detail: Signal<ServiceDetail>, p: Powers) -> impl IntoView {
    let service = Memo::new(move |_| detail.get().service);
    let name = move || service.get().spec.name;
    let act = ServerAction::<ServiceAction>::new();
    let act_error = error_of(act.value());
    view! {
        <Title text=name />
        <div class="page-header">
            <div>
                <h1 class="service-title">
                    <span id="service-name">{name}</span>
                    {move || view! { <StatusBadge status=service.get().status /> }}
                </h1>
                <p class="page-subtitle mono">{move || source_text(&service.get().spec.source)}</p>
            </div>
            <div class="page-actions">
                {move || p.deploy.get().then(|| view! { <Lifecycle service=service.get() act /> })}
                {move || p.manage.get().then(|| {
                    let base = format!("/c/{}/services/{}", p.cluster_id.get(), service.get().id);
                    view! {
                        <a class="btn btn-secondary" id="open-console" href=format!("{base}/console")>"Console"</a>
                        <a class="btn btn-secondary" id="open-files" href=format!("{base}/files")>"Files"</a>
                    }
                })}
                {move || p.manage.get().then(|| view! { <DeleteButton service=service.get() /> })}
            </div>
        </div>
        <FormError error=act_error />
        {move || p.deploy.get().then(|| view! { <DeployForm service_id=service.get().id /> })}
    }
}

#[component]
fn DeployForm(service_id: String) -> impl IntoView {
    let deploy = ServerAction::<DeployService>::new();
    let error = error_of(deploy.value());
    let ref_err = field_error(error, "ref");
    view! {
        <section class="deploy-bar" aria-label="Deploy">
            <ActionForm action=deploy attr:class="deploy-form" attr:id="deploy-form">
                <input type="hidden" name="service_id" value=service_id />
                <div class="field">
                    <label for="deploy-ref" class="visually-hidden">"Ref"</label>
                    <input id="deploy-ref" type="text" name="git_ref"
                        placeholder="branch, tag or commit (default: the service's branch)"
                        aria-invalid=move || ref_err.get().is_some().then_some("true")
                        aria-describedby="deploy-ref-error" />
                    <FieldError id="deploy-ref-error" message=ref_err />
                </div>
                <SubmitButton label="Deploy" busy_label="Queuing…" pending=deploy.pending().into()
                    class="btn btn-primary" />
            </ActionForm>
            <FormError error />
        </section>
    }
}

/// Restart and Stop while the live release runs (or crashed), Start once stopped; nothing before
/// a first deployment went live. The answer comes back when dployrd has done it; the page's
/// WebSocket then shows the new status. `act` lives in the header, so a push that redraws these
/// buttons mid-action keeps its pending state and its error.
#[component]
fn Lifecycle(service: Service, act: ServerAction<ServiceAction>) -> impl IntoView {
    use proto::api::ServiceStatus;

    // Nothing to restart before a first release went live.
    service.live_deployment_id.as_ref()?;
    let verbs: &[(&str, &str, &str)] = match service.status {
        ServiceStatus::Stopped => &[("start", "Start", "Starting…")],
        _ => &[
            ("restart", "Restart", "Restarting…"),
            ("stop", "Stop", "Stopping…"),
        ],
    };
    let id = service.id;
    Some(
        verbs
            .iter()
            .map(|&(action, label, busy)| {
                let id = id.clone();
                let mine = move || {
                    act.input()
                        .with(|i| i.as_ref().is_some_and(|i| i.action == action))
                };
                view! {
                    <button type="button" class="btn btn-secondary" id=format!("service-{action}")
                        disabled=move || act.pending().get()
                        on:click=move |_| {
                            act.dispatch(ServiceAction { service_id: id.clone(), action: action.into() });
                        }>
                        {move || if act.pending().get() && mine() { busy } else { label }}
                    </button>
                }
            })
            .collect_view(),
    )
}

#[component]
fn DeleteButton(service: Service) -> impl IntoView {
    let delete = ServerAction::<DeleteService>::new();
    let error = error_of(delete.value());
    let (id, name) = (service.id, service.spec.name);
    view! {
        <button type="button" class="btn btn-danger" id="delete-service"
            disabled=move || delete.pending().get()
            on:click=move |_| {
                let question = format!("Delete {name}? It is stopped on its instance and its deployments are forgotten.");
                if window().confirm_with_message(&question).unwrap_or(false) {
                    delete.dispatch(DeleteService { service_id: id.clone() });
                }
            }>
            "Delete"
        </button>
        <FormError error />
    }
}
