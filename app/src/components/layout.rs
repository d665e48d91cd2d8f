//! The signed-in frame. [`SignedIn`] knows the session before anything renders (the server looks
//! it up before rendering and sends it with the page, so signed-out visitors get a real 302 to
//! `/login`) and then draws the top bar (brand, cluster switcher, account, log out), the sidebar
//! and the page.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;
use proto::api::{ClusterSummary, MeResponse, User};

use crate::api::{Logout, get_me};
use crate::components::icons::{Icon, Logo};
use crate::error::AppError;
use crate::pages::not_found::ErrorPage;

/// What every signed-in page can read: who is signed in and their clusters. Pages that change a
/// cluster's name update `clusters` so the switcher follows without a reload.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub user: StoredValue<User>,
    pub clusters: RwSignal<Vec<ClusterSummary>>,
}

impl Session {
    pub fn replace_cluster(&self, updated: ClusterSummary) {
        self.clusters.update(|cs| {
            if let Some(c) = cs.iter_mut().find(|c| c.id == updated.id) {
                *c = updated;
            }
        });
    }
}

#[component]
pub fn SignedIn() -> impl IntoView {
    // On the server: who the request is from, looked up before rendering (see
    // `server::SignedInAtRender`); in the browser while hydrating: the same value, sent with the
    // page. So the frame and the page render once and at once, with no Suspense around them.
    let known = SharedValue::new(signed_in_at_render).into_inner();
    match known {
        Some(me) => frame(me),
        None => {
            // Arrived by client-side navigation from a signed-out page: ask the server.
            let me = LocalResource::new(get_me);
            view! {
                <Suspense fallback=|| view! { <div class="app" aria-busy="true"></div> }>
                    {move || Suspend::new(async move { frame(me.await) })}
                </Suspense>
            }
            .into_any()
        }
    }
}

fn signed_in_at_render() -> Option<Result<Option<MeResponse>, AppError>> {
    #[cfg(feature = "ssr")]
    {
        crate::server::signed_in_at_render()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

fn frame(me: Result<Option<MeResponse>, AppError>) -> AnyView {
    match me {
        Ok(Some(me)) => view! { <AppShell me /> }.into_any(),
        Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
        Err(error) => view! { <ErrorPage error /> }.into_any(),
    }
}

/// The sidebar: each of a cluster's pages as its path under `/c/{id}`, icon and name (only the
/// overview, the empty path, is current on its own path alone).
const SIDE_LINKS: [(&str, &str, &str); 8] = [
    ("", "overview", "Overview"),
    ("/instances", "server", "Instances"),
    ("/services", "service", "Services"),
    ("/members", "overview", "Members"),
    ("/events", "overview", "Events"),
    ("/notifications", "bell", "Notifications"),
    ("/tokens", "settings", "API tokens"),
    ("/settings", "settings", "Settings"),
];

/// `/c/{id}/…` -> `id`.
pub fn cluster_in_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/c/")?;
    let id = rest.split('/').next().unwrap_or_default();
    (!id.is_empty()).then(|| id.to_string())
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

#[component]
fn AppShell(me: MeResponse) -> impl IntoView {
    let session = Session {
        user: StoredValue::new(me.user.clone()),
        clusters: RwSignal::new(me.clusters),
    };
    provide_context(session);
    let location = use_location();
    let current = Memo::new(move |_| {
        let clusters = session.clusters.get();
        let wanted = cluster_in_path(&location.pathname.get());
        wanted
            .and_then(|id| clusters.iter().find(|c| c.id == id).cloned())
            .or_else(|| clusters.first().cloned())
    });
    let current_id = move || current.get().map(|c| c.id).unwrap_or_default();
    // A cluster that is not in the list yet (just created here or in another tab, or joined):
    // reload the list once so the switcher and sidebar name it.
    Effect::new(move |_| {
        let Some(id) = cluster_in_path(&location.pathname.get()) else {
            return;
        };
        if session
            .clusters
            .with_untracked(|cs| cs.iter().any(|c| c.id == id))
        {
            return;
        }
        leptos::task::spawn_local(async move {
            if let Ok(Some(me)) = get_me().await {
                session.clusters.set(me.clusters);
            }
        });
    });
    let (open, set_open) = signal(false);
    // Any navigation closes the menu.
    Effect::new(move |_| {
        location.pathname.track();
        set_open.set(false);
    });
    let logout = ServerAction::<Logout>::new();
    let name = me.user.name.clone();

    view! {
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/">
                    <Logo />
                    <span>"dployr"</span>
                </a>
                <div class="switcher">
                    <button
                        type="button"
                        id="cluster-switcher"
                        class="switcher-button"
                        aria-haspopup="true"
                        aria-controls="cluster-menu"
                        aria-expanded=move || open.get().to_string()
                        on:click=move |_| set_open.update(|o| *o = !*o)
                    >
                        <span class="visually-hidden">"Current cluster: "</span>
                        <span>{move || current.get().map(|c| c.name).unwrap_or_else(|| "No cluster".into())}</span>
                        <span class="chevron" aria-hidden="true"></span>
                    </button>
                    <ul class="switcher-menu" id="cluster-menu" hidden=move || !open.get()>
                        <For
                            each=move || session.clusters.get()
                            key=|c| (c.id.clone(), c.name.clone())
                            children=move |c: ClusterSummary| {
                                let id = c.id.clone();
                                let is_current = move || (current_id() == id).then_some("true");
                                view! {
                                    <li>
                                        <a
                                            class="switcher-item"
                                            href=format!("/c/{}", c.id)
                                            aria-current=is_current
                                        >
                                            <span class="switcher-name">{c.name.clone()}</span>
                                            <span class=format!(
                                                "badge badge-{}",
                                                c.role.as_str(),
                                            )>{c.role.label()}</span>
                                        </a>
                                    </li>
                                }
                            }
                        />
                        <li class="switcher-sep" role="separator"></li>
                        <li>
                            <a class="switcher-item switcher-new" href="/clusters/new">
                                "+ New cluster"
                            </a>
                        </li>
                    </ul>
                </div>
                <div class="topbar-right">
                    <a class="nav-link" href="/account">
                        <span class="avatar" aria-hidden="true">{initials(&name)}</span>
                        <span>{name.clone()}</span>
                    </a>
                    <ActionForm action=logout attr:class="inline-form">
                        <button type="submit" class="link-button">"Log out"</button>
                    </ActionForm>
                </div>
            </header>
            <div class="layout">
                <nav class="sidebar" aria-label="Cluster">
                    <div class="sidebar-links">
                    {move || {
                        let id = current_id();
                        SIDE_LINKS
                            .map(|(path, icon, label)| view! {
                                <A href=format!("/c/{id}{path}") exact=path.is_empty() attr:class="side-link">
                                    <Icon name=icon />
                                    <span>{label}</span>
                                </A>
                            })
                            .collect_view()
                    }}
                    </div>
                </nav>
                <main class="content" id="main">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_cluster_in_the_path() {
        assert_eq!(
            super::cluster_in_path("/c/cl_1/settings").as_deref(),
            Some("cl_1")
        );
        assert_eq!(super::cluster_in_path("/c/cl_1").as_deref(), Some("cl_1"));
        assert_eq!(super::cluster_in_path("/c/"), None);
        assert_eq!(super::cluster_in_path("/account"), None);
        assert_eq!(super::initials("ana maria lopez"), "AM");
    }
}
