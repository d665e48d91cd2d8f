//! The cluster settings' two-factor section: whether the cluster requires two-factor sign-in of
//! its members, and for the Owner the switch (the server refuses it while the Owner has none).

use leptos::prelude::*;

use crate::api::two_factor::{SetClusterTwoFactor, get_cluster_two_factor};
use crate::components::forms::{FormError, error_of};

/// `owner`: whether the viewer may change the requirement.
#[component]
pub fn ClusterTwoFactor(cluster_id: String, owner: bool) -> impl IntoView {
    let set = ServerAction::<SetClusterTwoFactor>::new();
    let error = error_of(set.value());
    let id = cluster_id.clone();
    let required = Resource::new(
        move || set.version().get(),
        move |_| get_cluster_two_factor(id.clone()),
    );
    let switch = move |now: bool| {
        let cluster_id = cluster_id.clone();
        let label = if now {
            "Stop requiring two-factor"
        } else {
            "Require two-factor"
        };
        owner.then(|| {
            view! {
                <div class="form-actions">
                    <button type="button" class="btn btn-secondary" id="require-2fa-toggle"
                        disabled=move || set.pending().get()
                        on:click=move |_| {
                            set.dispatch(SetClusterTwoFactor { cluster_id: cluster_id.clone(), required: !now });
                        }>{label}</button>
                </div>
            }
        })
    };
    view! {
        <section class="settings-section" aria-labelledby="require-2fa-title">
            <h2 id="require-2fa-title">"Two-factor sign-in"</h2>
            <FormError error />
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new({
                    let switch = switch.clone();
                    async move {
                        match required.await {
                            Ok(now) => view! {
                                <p class="section-text" id="require-2fa-state" data-required=now.to_string()>
                                    {if now {
                                        "Required: members without two-factor sign-in cannot act in this cluster until they turn it on from their account page."
                                    } else {
                                        "Not required. The Owner can require every member to sign in with a code from an authenticator app."
                                    }}
                                </p>
                                {switch(now)}
                            }
                            .into_any(),
                            Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
