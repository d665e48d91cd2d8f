//! `/`: sends people where they belong (their first cluster, sign-up on a fresh Base, or log-in).

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::landing_path;
use crate::pages::not_found::ErrorPage;

#[component]
pub fn Home() -> impl IntoView {
    let target = Resource::new_blocking(|| (), |_| landing_path());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match target.await {
                    Ok(path) => view! { <Redirect path /> }.into_any(),
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
