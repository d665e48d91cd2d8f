//! The dashboard, rendered on the server (feature `ssr`) and hydrated in the browser (feature
//! `hydrate`). Read in this order:
//!
//! - [`shell`] and [`App`] (here): the HTML document and the route table.
//! - [`error`]: [`error::AppError`], what server functions return instead of leaking internals.
//! - [`api`]: the server functions; each is a thin call into `control`.
//! - [`service_fields`]: the service settings form's text and how it reads as `proto` types.
//! - [`logview`]: the log viewer's parts that need no DOM (ANSI, the held lines, windowing).
//! - [`server`] (ssr only): the request context server functions read (session, client, Base).
//! - [`components`]: the signed-in layout (top bar, cluster switcher, sidebar), forms, icons.
//! - [`pages`]: one module per page.

// Deeply nested view types (the signed-in layout) exceed the default query depth.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod logview;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
pub mod service_fields;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::layout::SignedIn;
use crate::pages::{
    account, auth, cluster_settings, console, events, files, home, instances, invite, members,
    new_cluster, not_found, overview, services, tokens,
};

const XTERM_IMPORT_MAP: &str =
    r#"{"imports":{"xterm":"/pkg/xterm/xterm.mjs","xterm-addon-fit":"/pkg/xterm/addon-fit.mjs"}}"#;

/// The whole HTML document. The server renders it; the browser hydrates `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="stylesheet" href="/pkg/main.css" />
                <link rel="stylesheet" href="/pkg/services.css" />
                <link rel="icon" type="image/svg+xml" href="/pkg/favicon.svg" />
                <link rel="stylesheet" href="/pkg/xterm/xterm.css" />
                // The console's xterm.js bindings import these bare names (TOOLCHAIN.md).
                <script type="importmap" inner_html=XTERM_IMPORT_MAP></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "dployr".to_string() } else { format!("{title} · dployr") }
        } />
        <Router>
            <Routes fallback=not_found::NotFound>
                <Route path=path!("/") view=home::Home ssr=SsrMode::Async />
                <Route path=path!("/login") view=auth::LoginPage ssr=SsrMode::Async />
                <Route path=path!("/signup") view=auth::SignupPage ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view=invite::InvitePage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=SignedIn ssr=SsrMode::Async>
                    <Route path=path!("/account") view=account::AccountPage />
                    <Route path=path!("/clusters/new") view=new_cluster::NewClusterPage />
                    <Route path=path!("/c/:cluster") view=overview::OverviewPage />
                    <Route path=path!("/c/:cluster/instances") view=instances::InstancesPage />
                    <Route path=path!("/c/:cluster/services") view=services::list::ServicesPage />
                    <Route
                        path=path!("/c/:cluster/services/new")
                        view=services::new::NewServicePage
                    />
                    <Route
                        path=path!("/c/:cluster/services/:service")
                        view=services::show::ServicePage
                    />
                    <Route
                        path=path!("/c/:cluster/services/:service/console")
                        view=console::ServiceConsolePage
                    />
                    <Route
                        path=path!("/c/:cluster/services/:service/files")
                        view=files::FilesPage
                    />
                    <Route
                        path=path!("/c/:cluster/instances/:instance/console")
                        view=console::InstanceConsolePage
                    />
                    <Route path=path!("/c/:cluster/members") view=members::MembersPage />
                    <Route path=path!("/c/:cluster/tokens") view=tokens::TokensPage />
                    <Route path=path!("/c/:cluster/events") view=events::EventsPage />
                    <Route
                        path=path!("/c/:cluster/settings")
                        view=cluster_settings::ClusterSettingsPage
                    />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Sets `data-hydrated` on `<html>` once the WASM has taken over, so browser tests (and curious
/// people) can tell a live page from server-rendered HTML.
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
