//! A service's Settings: the create form's inputs filled with its current settings. Saving sends
//! only what changed (the server function compares); Members and Guests see the settings but no
//! Save button.

use leptos::prelude::*;
use proto::api::Service;

use crate::api::services::UpdateService;
use crate::components::forms::{SubmitButton, error_of};
use crate::components::service_form::ServiceInputs;
use crate::service_fields::ServiceFields;

#[component]
pub fn ServiceSettings(service: Service, may: Signal<bool>) -> impl IntoView {
    let update = ServerAction::<UpdateService>::new();
    let error = error_of(update.value());
    let saved = move || matches!(update.value().get(), Some(Ok(_)));
    view! {
        <section class="settings-section" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <p class="section-text">"Changes apply from the next deployment."</p>
            <ActionForm action=update attr:class="form service-form" attr:id="service-settings-form">
                {move || saved().then(|| view! { <div class="form-success" role="status">"Saved."</div> })}
                <input type="hidden" name="service_id" value=service.id.clone() />
                <ServiceInputs initial=ServiceFields::of(&service) error />
                {move || may.get().then(|| view! {
                    <SubmitButton label="Save settings" busy_label="Saving…" pending=update.pending().into()
                        class="btn btn-primary" />
                })}
            </ActionForm>
        </section>
    }
}
