//! The 404 page and the page shown when loading data failed.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AppError;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="error-page">
            <p class="error-code">"404"</p>
            <h1>"This page does not exist"</h1>
            <p class="muted">"Check the address, or go back to your dashboard."</p>
            <a class="btn btn-primary" href="/">"Go to the dashboard"</a>
        </main>
    }
}

#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    let code = match error {
        AppError::NotFound(_) => "404",
        AppError::Forbidden => "403",
        AppError::Unauthorized(_) => "401",
        _ => "Error",
    };
    view! {
        <Title text="Error" />
        <div class="error-page" role="alert">
            <p class="error-code">{code}</p>
            <h1>{error.to_string()}</h1>
            <a class="btn btn-secondary" href="/">"Back to the dashboard"</a>
        </div>
    }
}
