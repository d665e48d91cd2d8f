//! [`Loaded`]: a part of a page that waits for its server data: "Loading…" until it comes, what
//! went wrong if it failed, the part itself once loaded. Pages only say what to show.

use std::sync::Arc;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::pages::not_found::ErrorPage;

/// `children(value)` once `resource` has loaded. While it loads "Loading…" is shown (nothing
/// when `quiet`), or with `keep` the previous view stays until the new one is ready (a
/// `Transition`, for lists that load again after a form). A failure shows the error page, or
/// with `inline` one line (for a section of a page that still works without it).
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    #[prop(optional)] keep: bool,
    #[prop(optional)] inline: bool,
    #[prop(optional)] quiet: bool,
    children: F,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = Arc::new(children);
    let body = move || {
        let children = Arc::clone(&children);
        Suspend::new(async move {
            match resource.await {
                Ok(value) => children(value).into_any(),
                Err(e) if inline => {
                    view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
                }
                Err(error) => view! { <ErrorPage error /> }.into_any(),
            }
        })
    };
    let fallback = move || (!quiet).then(|| view! { <p class="muted">"Loading…"</p> });
    if keep {
        view! { <Transition fallback>{body}</Transition> }.into_any()
    } else {
        view! { <Suspense fallback>{body}</Suspense> }.into_any()
    }
}
