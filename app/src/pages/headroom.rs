//! The Instances page's metrics: each server's headroom at a glance (bars for CPU, memory and
//! disk in use now, fetched again every 10 s: the rate at which agents report) and, for the
//! server chosen with its Charts link (`?instance=…`, so the view is a link), the charts of its
//! host series (see `components::metrics`).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::metrics::{Headroom, get_headroom};
use crate::components::loaded::Loaded;
use crate::components::metrics::{HOST_CHARTS, MetricsCharts, Source};

/// How often the bars are refreshed: agents report every 10 s.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// The headroom card and the chosen server's charts, for `cluster_id`'s servers.
#[component]
pub fn InstanceMetrics(cluster_id: Signal<String>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        let handle =
            set_interval_with_handle(move || tick.update(|t| *t = t.wrapping_add(1)), REFRESH);
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let rooms = Resource::new(
        move || (cluster_id.get(), tick.get()),
        |(c, _)| get_headroom(c),
    );
    let query = use_query_map();
    let chosen = Signal::derive(move || query.read().get("instance").filter(|i| !i.is_empty()));
    view! {
        <section class="card headroom-card" aria-labelledby="headroom-title">
            <div class="card-header">
                <h2 id="headroom-title">"Headroom"</h2>
                <span class="muted">"in use now"</span>
            </div>
            <div class="card-body">
                <Loaded resource=rooms keep=true inline=true let:list>
                    {if list.is_empty() {
                        view! { <p class="empty-text">"No servers yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="headroom-list">
                                {list.into_iter().map(|h| view! { <HeadroomRow h cluster=cluster_id.get_untracked() chosen /> }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }}
                </Loaded>
            </div>
        </section>
        <MetricsCharts id="instance-metrics" title="Server metrics" specs=HOST_CHARTS
            source=Signal::derive(move || chosen.get().map(Source::Instance))
            hint="Choose Charts beside a server to see its CPU, memory, disk and network." />
    }
}

#[component]
fn HeadroomRow(h: Headroom, cluster: String, chosen: Signal<Option<String>>) -> impl IntoView {
    let id = h.instance_id.clone();
    let current = move || chosen.get().as_deref() == Some(id.as_str());
    view! {
        <li class="headroom-row" data-instance=h.instance_id.clone()>
            <span class="headroom-name">{h.name.clone()}</span>
            <Meter label="CPU" value=h.cpu_pct />
            <Meter label="Memory" value=h.mem_pct />
            <Meter label="Disk" value=h.disk_pct />
            <a class="btn btn-secondary btn-small" href=format!("/c/{cluster}/instances?instance={}#instance-metrics", h.instance_id)
                aria-current=move || current().then_some("true")>
                "Charts"
            </a>
        </li>
    }
}

/// A bar of how much of something is used, in percent; "–" without a recent figure.
#[component]
fn Meter(label: &'static str, value: Option<f64>) -> impl IntoView {
    let v = value.map(|v| v.clamp(0.0, 100.0));
    let level = match v {
        Some(v) if v >= 90.0 => "meter meter-high",
        Some(v) if v >= 70.0 => "meter meter-mid",
        _ => "meter",
    };
    let text = v.map(|v| format!("{v:.0} %")).unwrap_or_else(|| "–".into());
    view! {
        <span class="meter-cell">
            <span class="meter-label">{label}</span>
            <span class=level role="meter" aria-label=label aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=v.map(|v| format!("{v:.0}")) aria-valuetext=text.clone()
                data-value=v.map(|v| format!("{v:.1}"))>
                <span class="meter-fill" style=format!("width: {:.1}%", v.unwrap_or(0.0))></span>
            </span>
            <span class="meter-text">{text}</span>
        </span>
    }
}
