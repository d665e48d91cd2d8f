//! `/clusters/new`: start another cluster (a team workspace); you become its Owner.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::CreateCluster;
use crate::components::forms::{FieldError, FormError, SubmitButton, error_of, field_error};

#[component]
pub fn NewClusterPage() -> impl IntoView {
    let create = ServerAction::<CreateCluster>::new();
    let error = error_of(create.value());
    let name_err = field_error(error, "name");
    view! {
        <Title text="New cluster" />
        <div class="page-header">
            <div>
                <h1>"New cluster"</h1>
                <p class="page-subtitle">
                    "A cluster is a team workspace with its own servers, services, members and audit log."
                </p>
            </div>
        </div>
        <section class="settings-section">
            <ActionForm action=create attr:class="form">
                <FormError error />
                <div class="field">
                    <label for="new-cluster-name">"Name"</label>
                    <input
                        id="new-cluster-name"
                        type="text"
                        name="name"
                        placeholder="e.g. Production"
                        required
                        maxlength=proto::rules::NAME_MAX
                        aria-invalid=move || name_err.get().is_some().then_some("true")
                        aria-describedby="new-cluster-name-error"
                    />
                    <FieldError id="new-cluster-name-error" message=name_err />
                </div>
                <SubmitButton label="Create cluster" busy_label="Creating…" pending=create.pending().into() class="btn btn-primary" />
            </ActionForm>
        </section>
    }
}
