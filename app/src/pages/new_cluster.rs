//! `/clusters/new`: start another cluster (a team workspace); you become its Owner.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::CreateCluster;
use crate::components::forms::{Field, FormError, SubmitButton, error_of};
use crate::components::page::PageHeader;

#[component]
pub fn NewClusterPage() -> impl IntoView {
    let create = ServerAction::<CreateCluster>::new();
    let error = error_of(create.value());
    view! {
        <Title text="New cluster" />
        <PageHeader title="New cluster">
            "A cluster is a team workspace with its own servers, services, members and audit log."
        </PageHeader>
        <section class="settings-section">
            <ActionForm action=create attr:class="form">
                <FormError error />
                <Field id="new-cluster-name" label="Name" name="name" error required=true
                    placeholder="e.g. Production" maxlength=proto::rules::NAME_MAX />
                <SubmitButton label="Create cluster" busy_label="Creating…" pending=create.pending().into() class="btn btn-primary" />
            </ActionForm>
        </section>
    }
}
