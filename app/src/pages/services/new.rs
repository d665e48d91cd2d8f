//! `/c/{cluster}/services/new`: the create form. It needs an instance to run on, so with none it
//! points to the Instances page. A refused input shows its message under that input; success
//! opens the new service's page (the server function redirects).

use leptos::prelude::*;
use leptos_meta::Title;

use super::powers;
use crate::api::list_instances;
use crate::api::services::CreateService;
use crate::components::forms::{SubmitButton, error_of};
use crate::components::loaded::Loaded;
use crate::components::page::PageHeader;
use crate::components::service_form::ServiceInputs;
use crate::service_fields::ServiceFields;

#[component]
pub fn NewServicePage() -> impl IntoView {
    let p = powers();
    let instances = Resource::new_blocking(move || p.cluster_id.get(), list_instances);
    let create = ServerAction::<CreateService>::new();
    let error = error_of(create.value());

    view! {
        <Title text="New service" />
        <PageHeader title="New service">"Nothing runs until you deploy it."</PageHeader>
        <Loaded resource=instances let:list>
            {if list.is_empty() {
                view! {
                    <p class="section-text">
                        "A service runs on an instance, and this cluster has none yet. "
                        <a href=format!("/c/{}/instances", p.cluster_id.get())>"Add an instance"</a>
                        " first."
                    </p>
                }.into_any()
            } else {
                view! {
                    {move || (!p.manage.get()).then(|| view! {
                        <p class="muted">"Only Owners and Admins can create services."</p>
                    })}
                    <section class="settings-section">
                        <ActionForm action=create attr:class="form service-form" attr:id="new-service-form">
                            <input type="hidden" name="cluster_id" value=p.cluster_id.get() />
                            <ServiceInputs initial=ServiceFields::blank() error instances=list />
                            <SubmitButton label="Create service" busy_label="Creating…"
                                pending=create.pending().into() class="btn btn-primary" />
                        </ActionForm>
                    </section>
                }.into_any()
            }}
        </Loaded>
    }
}
