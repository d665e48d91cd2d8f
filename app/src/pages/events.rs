//! `/c/{cluster}/events`: the cluster's audit log, newest first, filtered by actor, action (or
//! a prefix such as `env.`) and target through the URL's query (so a filtered view is a link),
//! paged with "Older", refreshed every few seconds while open, with CSV and NDJSON export of
//! the same filter (the REST API serves the files).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::team::list_events;
use crate::components::events::EventList;
use crate::components::loaded::Loaded;
use crate::components::page::PageHeader;

/// How often the open page asks for new events.
const REFRESH_MS: u32 = 5_000;

#[component]
pub fn EventsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let cluster_id = Signal::derive(move || params.read().get("cluster").unwrap_or_default());
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let tick = RwSignal::new(0u32);
    // In the browser only: refresh while the page is open (the first page only: older pages do
    // not change).
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || tick.update(|t| *t = t.wrapping_add(1)),
            std::time::Duration::from_millis(REFRESH_MS.into()),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let page = Resource::new(
        move || {
            let cursor = q("cursor");
            let live = if cursor.is_empty() { tick.get() } else { 0 };
            (
                cluster_id.get(),
                q("actor"),
                q("action"),
                q("target"),
                cursor,
                live,
            )
        },
        |(c, actor, action, target, cursor, _)| list_events(c, actor, action, target, cursor),
    );
    let filter_query = move || {
        ["actor", "action", "target"]
            .iter()
            .filter_map(|k| {
                let v = q(k);
                (!v.is_empty()).then(|| format!("&{k}={}", urlencoding(&v)))
            })
            .collect::<String>()
    };
    let export = move |format: &str| {
        format!(
            "/api/v1/clusters/{}/events?format={format}&limit=500{}",
            cluster_id.get(),
            filter_query()
        )
    };
    view! {
        <Title text="Events" />
        <PageHeader title="Events" actions=move || view! {
            <div class="page-actions">
                <a class="btn btn-secondary" id="export-csv" href=move || export("csv")>"Export CSV"</a>
                <a class="btn btn-secondary" id="export-ndjson" href=move || export("ndjson")>"Export NDJSON"</a>
            </div>
        }>
            "Who did what, when and from where. Nothing here is ever changed or deleted."
        </PageHeader>
        <form class="filters" method="get" id="event-filters">
            <input type="text" name="action" placeholder="action, e.g. env. or deployment.create"
                prop:value=move || q("action") aria-label="Action" />
            <input type="text" name="actor" placeholder="user or token id" prop:value=move || q("actor")
                aria-label="Actor" />
            <input type="text" name="target" placeholder="target id" prop:value=move || q("target")
                aria-label="Target" />
            <button type="submit" class="btn btn-secondary">"Filter"</button>
        </form>
        <Loaded resource=page keep=true let:p>
            {p.events.is_empty().then(|| view! { <p class="muted">"No events match."</p> })}
            <EventList events=p.events />
            {p.next_cursor.map(|cursor| {
                let href = format!("?cursor={cursor}{}", filter_query());
                view! { <a class="btn btn-secondary" id="events-older" href=href>"Older"</a> }
            })}
        </Loaded>
    }
}

/// Percent-encodes a query value (letters, digits and `-_.~` stay).
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
