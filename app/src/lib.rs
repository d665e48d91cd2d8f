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
use leptos_router::{Lazy, SsrMode, path};

use crate::components::layout::SignedIn;
use crate::pages::{
    account, auth, cluster_settings, console, events, files, home, instances, invite, members,
    new_cluster, not_found, notifications, overview, services, tokens,
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
                <link rel="stylesheet" href="/pkg/charts.css" />
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
    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "dployr".to_string() } else { format!("{title} · dployr") }
        } />
        <Router>
            <Routes fallback=not_found::NotFound>
                <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/signup") view={Lazy::<SignupRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view={Lazy::<InviteRoute>::new()} ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=SignedIn ssr=SsrMode::Async>
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} />
                    <Route path=path!("/clusters/new") view={Lazy::<NewClusterRoute>::new()} />
                    <Route path=path!("/c/:cluster") view={Lazy::<OverviewRoute>::new()} />
                    <Route path=path!("/c/:cluster/instances") view={Lazy::<InstancesRoute>::new()} />
                    <Route path=path!("/c/:cluster/services") view={Lazy::<ServicesRoute>::new()} />
                    <Route
                        path=path!("/c/:cluster/services/new")
                        view={Lazy::<NewServiceRoute>::new()}
                    />
                    <Route
                        path=path!("/c/:cluster/services/:service")
                        view={Lazy::<ServiceRoute>::new()}
                    />
                    <Route
                        path=path!("/c/:cluster/services/:service/console")
                        view={Lazy::<ServiceConsoleRoute>::new()}
                    />
                    <Route
                        path=path!("/c/:cluster/services/:service/files")
                        view={Lazy::<FilesRoute>::new()}
                    />
                    <Route
                        path=path!("/c/:cluster/instances/:instance/console")
                        view={Lazy::<InstanceConsoleRoute>::new()}
                    />
                    <Route path=path!("/c/:cluster/members") view={Lazy::<MembersRoute>::new()} />
                    <Route path=path!("/c/:cluster/tokens") view={Lazy::<TokensRoute>::new()} />
                    <Route path=path!("/c/:cluster/events") view={Lazy::<EventsRoute>::new()} />
                    <Route
                        path=path!("/c/:cluster/notifications")
                        view={Lazy::<NotificationsRoute>::new()}
                    />
                    <Route
                        path=path!("/c/:cluster/settings")
                        view={Lazy::<ClusterSettingsRoute>::new()}
                    />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// A page whose code the browser loads only when the page is first shown: each route is a split
/// point, so the WASM bundle every page loads holds the runtime, the layout and the server-function
/// plumbing, and each page's own code comes in its own chunk (issue 14; `.ci/build-site` splits).
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                untrack(|| $page().into_any())
            }
        }
    };
}

lazy_page!(HomeRoute, home::Home);
lazy_page!(LoginRoute, auth::LoginPage);
lazy_page!(SignupRoute, auth::SignupPage);
lazy_page!(InviteRoute, invite::InvitePage);
lazy_page!(AccountRoute, account::AccountPage);
lazy_page!(NewClusterRoute, new_cluster::NewClusterPage);
lazy_page!(OverviewRoute, overview::OverviewPage);
lazy_page!(InstancesRoute, instances::InstancesPage);
lazy_page!(ServicesRoute, services::list::ServicesPage);
lazy_page!(NewServiceRoute, services::new::NewServicePage);
lazy_page!(ServiceRoute, services::show::ServicePage);
lazy_page!(ServiceConsoleRoute, console::ServiceConsolePage);
lazy_page!(FilesRoute, files::FilesPage);
lazy_page!(InstanceConsoleRoute, console::InstanceConsolePage);
lazy_page!(MembersRoute, members::MembersPage);
lazy_page!(TokensRoute, tokens::TokensPage);
lazy_page!(EventsRoute, events::EventsPage);
lazy_page!(NotificationsRoute, notifications::NotificationsPage);
lazy_page!(ClusterSettingsRoute, cluster_settings::ClusterSettingsPage);

/// Sets `data-hydrated` on `<html>` once the WASM has taken over the whole page (the front end
/// calls it when hydration, lazily loaded page included, is complete), so browser tests (and
/// curious people) can tell a live page from server-rendered HTML.
pub fn mark_hydrated() {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
