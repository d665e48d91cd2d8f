//! Inline SVG icons, drawn on a 24-unit grid with `currentColor` strokes so CSS sets their colour.

use leptos::prelude::*;

#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="brand-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect x="2" y="2" width="28" height="28" rx="8" fill="currentColor" />
            <path
                d="M11 9v14M11 9h4.5a7 7 0 0 1 0 14H11"
                fill="none"
                stroke="white"
                stroke-width="3"
                stroke-linecap="round"
                stroke-linejoin="round"
            />
            <circle cx="22.5" cy="9.5" r="2" fill="white" />
        </svg>
    }
}

/// A named icon for sidebars and empty states.
#[component]
pub fn Icon(name: &'static str, #[prop(default = "icon")] class: &'static str) -> impl IntoView {
    let d = match name {
        "overview" => "M4 13h6V4H4zM14 20h6v-9h-6zM4 20h6v-3H4zM14 7h6V4h-6z",
        "server" => "M4 5h16v6H4zM4 13h16v6H4zM8 8h.01M8 16h.01",
        "service" => "M12 3l8 4.5v9L12 21l-8-4.5v-9zM12 12l8-4.5M12 12v9M12 12L4 7.5",
        "events" => "M4 6h16M4 12h10M4 18h7M18 15l3 3-3 3",
        "settings" => {
            "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-1-3-2 .3-1.5-1.5L17 5l-3-1-1 2h-2L10 4 7 5l.5 2L6 8.3 4 8 3 11l2 1v0l-2 1 1 3 2-.3 1.5 1.5L7 19l3 1 1-2h2l1 2 3-1-.5-2 1.5-1.3 2 .3 1-3z"
        }
        "members" => {
            "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21a7 7 0 0 1 14 0M17 11a3 3 0 1 0 0-6M22 21a6 6 0 0 0-4-5.6"
        }
        "key" => "M15 7a4 4 0 1 1-3.9 5H8v3H5v-3H3V9h8.1A4 4 0 0 1 15 7z",
        "bell" => "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0",
        _ => "M12 12h.01",
    };
    view! {
        <svg
            class=class
            viewBox="0 0 24 24"
            width="20"
            height="20"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
        >
            <path d=d />
        </svg>
    }
}
