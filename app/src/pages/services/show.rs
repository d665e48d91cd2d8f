//! `/c/{cluster}/services/{service}`: one service. The header says where it stands and offers
//! Deploy (Member and up, with an optional ref) and Delete (Admin and up, after confirming);
//! below are its deployments and its Settings. Server-rendered from a resource; once hydrated,
//! `/api/v1/services/{id}/live` pushes the service and its deployments after every change, so a
//! deployment shows up and moves through its steps without a reload.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use proto::api::{Service, ServiceDetail};

use super::deployments::DeploymentList;
use super::settings::ServiceSettings;
use super::{Powers, StatusBadge, powers, source_text};
use crate::api::services::{DeleteService, DeployService, get_service_detail};
use crate::components::forms::{FieldError, FormError, SubmitButton, error_of, field_error};
use crate::components::live;
use crate::pages::not_found::ErrorPage;

#[component]
pub fn ServicePage() -> impl IntoView {
    let p = powers();
    let params = use_params_map();
    let service_id = move || params.read().get("service").unwrap_or_default();
    let initial = Resource::new_blocking(service_id, get_service_detail);
    let live: RwSignal<Option<ServiceDetail>> = RwSignal::new(None);

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(first) => {
                        // Subscribed here, once this part is hydrated (see components::live).
                        live::follow(move || format!("/api/v1/services/{}/live", service_id()), live);
                        let settings_of = first.service.clone();
                        let first = StoredValue::new(first);
                        let detail = Signal::derive(move || live.get().unwrap_or_else(|| first.get_value()));
                        view! {
                            <Header detail p />
                            <DeploymentList
                                deployments=Signal::derive(move || detail.get().deployments)
                                may_cancel=p.deploy
                            />
                            <ServiceSettings service=settings_of may=p.manage />
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Header(detail: Signal<ServiceDetail>, p: Powers) -> impl IntoView {
    let service = Memo::new(move |_| detail.get().service);
    let name = move || service.get().spec.name;
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
                {move || p.manage.get().then(|| view! { <DeleteButton service=service.get() /> })}
            </div>
        </div>
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
