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

use crate::components::page::PageHeader;
use crate::pages::route_params;

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
    let [cluster, service] = route_params(["cluster", "service"]);
    let back = format!("/c/{cluster}/services/{service}");
    view! { <ConsoleFrame title="Console" target="services" id=service back /> }
}

#[component]
pub fn InstanceConsolePage() -> impl IntoView {
    let [cluster, instance] = route_params(["cluster", "instance"]);
    let back = format!("/c/{cluster}/instances");
    view! { <ConsoleFrame title="Instance console" target="instances" id=instance back /> }
}

/// The console of `/api/v1/{target}/{id}/console` (`target`: `services` or `instances`); its
/// session is kept per `id`.
#[component]
fn ConsoleFrame(
    title: &'static str,
    target: &'static str,
    id: String,
    back: String,
) -> impl IntoView {
    let socket = format!("/api/v1/{target}/{id}/console");
    let key = id;
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
        <Title text=title />
        <PageHeader title actions=move || view! {
            <div class="page-actions">
                <ClipboardButton id="console-copy" title="Copy the selected text" label="Copy"
                    act=copy_selection />
                <ClipboardButton id="console-paste" title="Paste from the clipboard" label="Paste"
                    act=paste_clipboard />
                {move || (allowed && over()).then(|| view! {
                    <button type="button" class="btn btn-secondary" id="console-restart"
                        on:click=move |_| restart.update(|n| *n += 1)>
                        "New session"
                    </button>
                })}
            </div>
        }>
            <a href=back>"← Back"</a>
        </PageHeader>
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

/// A button over the terminal that works the clipboard (`act`, which does something only in the
/// browser, where the terminal is).
#[component]
fn ClipboardButton(
    id: &'static str,
    title: &'static str,
    label: &'static str,
    act: fn(),
) -> impl IntoView {
    view! {
        <button type="button" class="btn btn-secondary" id=id title=title on:click=move |_| act()>
            {label}
        </button>
    }
}

fn copy_selection() {
    #[cfg(feature = "hydrate")]
    client::copy_selection();
}

fn paste_clipboard() {
    #[cfg(feature = "hydrate")]
    client::paste_clipboard();
}

#[cfg(feature = "hydrate")]
mod client;
