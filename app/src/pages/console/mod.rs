//! `/c/{cluster}/services/{service}/console` and `/c/{cluster}/instances/{instance}/console`:
//! a terminal (xterm.js through `xterm-js-rs`) on a WebSocket to Base, which relays it to a
//! shell in a PTY on the instance (see `server::rest::console`).
//!
//! The server renders the frame; the terminal and its socket exist only in the browser. The
//! session id lives in `sessionStorage`, per tab and target, so reloading the page (or a dropped
//! connection, retried with backoff) comes back to the same shell within 60 s, while another
//! tab gets its own. The terminal follows the window's size.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// What the status line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Attached { resumed: bool },
    Reconnecting,
    Ended(String),
    Refused(String),
}

#[component]
pub fn ServiceConsolePage() -> impl IntoView {
    let params = use_params_map();
    let (cluster, service) = params.with_untracked(|p| {
        (
            p.get("cluster").unwrap_or_default(),
            p.get("service").unwrap_or_default(),
        )
    });
    let back = format!("/c/{cluster}/services/{service}");
    view! {
        <Title text="Console" />
        <ConsoleFrame
            title="Console"
            socket=format!("/api/v1/services/{service}/console")
            key=service
            back
        />
    }
}

#[component]
pub fn InstanceConsolePage() -> impl IntoView {
    let params = use_params_map();
    let (cluster, instance) = params.with_untracked(|p| {
        (
            p.get("cluster").unwrap_or_default(),
            p.get("instance").unwrap_or_default(),
        )
    });
    view! {
        <Title text="Instance console" />
        <ConsoleFrame
            title="Instance console"
            socket=format!("/api/v1/instances/{instance}/console")
            key=instance
            back=format!("/c/{cluster}/instances")
        />
    }
}

#[component]
fn ConsoleFrame(title: &'static str, socket: String, key: String, back: String) -> impl IntoView {
    // Admins and Owners only (Base refuses the others anyway): nobody else gets a socket that is
    // bound to be refused.
    let allowed = crate::pages::services::powers().manage.get_untracked();
    let link = RwSignal::new(if allowed {
        Link::Connecting
    } else {
        Link::Refused("Only Admins and Owners of this cluster can open a console.".into())
    });
    let host = NodeRef::<html::Div>::new();
    let restart = RwSignal::new(0_u32);
    #[cfg(feature = "hydrate")]
    if allowed {
        client::mount(host, socket, key, link, restart);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (socket, key);
    let status = move || match link.get() {
        Link::Connecting => ("connecting", "Connecting…".to_string()),
        Link::Attached { resumed: true } => {
            ("live", "Connected: your session was resumed".to_string())
        }
        Link::Attached { resumed: false } => ("live", "Connected".to_string()),
        Link::Reconnecting => ("waiting", "Connection lost: reconnecting…".to_string()),
        Link::Ended(why) => ("ended", format!("Session ended: {why}")),
        Link::Refused(why) => ("refused", why),
    };
    let over = move || matches!(link.get(), Link::Ended(_) | Link::Refused(_));
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="page-subtitle">
                    <a href=back>"← Back"</a>
                </p>
            </div>
            <div class="page-actions">
                <button type="button" class="btn btn-secondary" id="console-copy"
                    title="Copy the selected text"
                    on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        client::copy_selection();
                    }>
                    "Copy"
                </button>
                <button type="button" class="btn btn-secondary" id="console-paste"
                    title="Paste from the clipboard"
                    on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        client::paste_clipboard();
                    }>
                    "Paste"
                </button>
                {move || (allowed && over()).then(|| view! {
                    <button type="button" class="btn btn-secondary" id="console-restart"
                        on:click=move |_| restart.update(|n| *n += 1)>
                        "New session"
                    </button>
                })}
            </div>
        </div>
        <p class="console-status" id="console-status" data-state=move || status().0 role="status">
            {move || status().1}
        </p>
        <div class="console-host" id="console" node_ref=host></div>
        <p class="muted console-hint">
            "Select text and press Copy (or the browser's copy); Ctrl+V or Paste pastes. Secrets
             are not in this shell's environment."
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod client;
