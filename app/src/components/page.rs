//! The blocks signed-in pages are built of (the header, a table's column heads, an empty
//! state), so their markup, which the stylesheet lays out, is written once.

use leptos::prelude::*;

use crate::components::icons::Icon;

/// The top of a page: its heading, the line under it (`children`) and, on the right, what
/// `actions` shows (a page's own `page-actions` block, when it has buttons).
#[component]
pub fn PageHeader(
    #[prop(into)] title: TextProp,
    #[prop(optional, into)] actions: Option<ViewFnOnce>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{move || title.get()}</h1>
                <p class="page-subtitle">{children()}</p>
            </div>
            {actions.map(ViewFnOnce::run)}
        </div>
    }
}

/// A table's header cells, one `<th scope="col">` a name.
#[component]
pub fn ColumnHeads(names: &'static [&'static str]) -> impl IntoView {
    names
        .iter()
        .map(|name| view! { <th scope="col">{*name}</th> })
        .collect_view()
}

/// What a list or card says while it has nothing: an icon, a headline, what will appear there
/// and (`children`) what to do about it. `class` is the box's (`card-body empty-state` in a card).
#[component]
pub fn EmptyState(
    #[prop(default = "empty-state")] class: &'static str,
    icon: &'static str,
    headline: &'static str,
    text: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class=class>
            <Icon name=icon class="empty-icon" />
            <p class="empty-title">{headline}</p>
            <p class="empty-text">{text}</p>
            {children.map(|c| c())}
        </div>
    }
}
