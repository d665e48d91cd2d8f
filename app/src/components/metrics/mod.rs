//! [`MetricsCharts`]: a card of charts of one service's or one instance's stored metrics, with a
//! range switch (last hour at 10 s points, last day at 1 min, last week at 1 h: the resolutions
//! Base keeps for those ages), which charts it shows coming from a table in [`specs`].
//!
//! Live updating re-fetches the series on a timer of the range's step (10 s for the hour; at
//! most a minute for the coarser ranges, whose newest point changes as Base rolls up) rather
//! than over the change feed: every instance stores a frame every 10 s, so a change signal per
//! frame would wake every open live view of the cluster (service pages, instance lists) every
//! few seconds for data they do not show, while a timer costs one small query per open chart
//! card per step, only while it is open, and the step is the rate at which the data can change.

mod specs;

use std::time::Duration;

use leptos::prelude::*;
use proto::api::MetricSeries;
use serde::{Deserialize, Serialize};

use crate::api::metrics::{get_instance_metrics, get_service_metrics};
use crate::components::chart::{ChartData, Line, LineChart};
use crate::components::time::epoch_ms;
use crate::error::AppError;
pub use specs::{ChartSpec, HOST_CHARTS, SERVICE_CHARTS};

/// Whose series a card shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Service(String),
    Instance(String),
}

/// The span of the charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Range {
    Hour,
    Day,
    Week,
}

impl Range {
    const ALL: [Range; 3] = [Range::Hour, Range::Day, Range::Week];

    fn key(self) -> &'static str {
        match self {
            Range::Hour => "hour",
            Range::Day => "day",
            Range::Week => "week",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Range::Hour => "Last hour",
            Range::Day => "Last day",
            Range::Week => "Last week",
        }
    }

    fn since(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
        }
    }

    /// The spacing of points asked for: the resolution Base keeps for the whole span.
    fn step_secs(self) -> u32 {
        match self {
            Range::Hour => 10,
            Range::Day => 60,
            Range::Week => 3600,
        }
    }

    fn span_ms(self) -> i64 {
        match self {
            Range::Hour => 3_600_000,
            Range::Day => 86_400_000,
            Range::Week => 7 * 86_400_000,
        }
    }

    fn refresh(self) -> Duration {
        Duration::from_secs(u64::from(self.step_secs().min(60)))
    }
}

async fn fetch(
    source: Option<Source>,
    range: Range,
) -> Result<Option<(Range, MetricSeries)>, AppError> {
    let (since, step) = (range.since().to_string(), range.step_secs());
    let series = match source {
        None => return Ok(None),
        Some(Source::Service(id)) => get_service_metrics(id, since, step).await?,
        Some(Source::Instance(id)) => get_instance_metrics(id, since, step).await?,
    };
    Ok(Some((range, series)))
}

/// What one chart of `spec` shows of `series`.
fn chart_data(spec: &ChartSpec, range: Range, series: &MetricSeries) -> ChartData {
    let times: Vec<Option<i64>> = series.points.iter().map(|p| epoch_ms(&p.at)).collect();
    ChartData {
        lines: spec
            .lines
            .iter()
            .map(|&(name, read)| Line {
                name,
                points: series
                    .points
                    .iter()
                    .zip(&times)
                    .filter_map(|(p, t)| Some(((*t)?, read(p)?)))
                    .collect(),
            })
            .collect(),
        span_ms: range.span_ms(),
        step_ms: i64::from(series.step_secs) * 1000,
    }
}

/// A card titled `title` (its element id `id`) with a chart per entry of `specs` for `source`;
/// `hint` shows while `source` is `None`. Create it at a page's top level, not inside a
/// Suspense body: it holds a resource.
#[component]
pub fn MetricsCharts(
    id: &'static str,
    title: &'static str,
    source: Signal<Option<Source>>,
    specs: &'static [ChartSpec],
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let range = RwSignal::new(Range::Hour);
    let tick = RwSignal::new(0u32);
    // In the browser only (effects do not run on the server): fetch again every step.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || tick.update(|t| *t = t.wrapping_add(1)),
            range.get().refresh(),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let series = Resource::new(
        move || (source.get(), range.get(), tick.get()),
        |(source, range, _)| fetch(source, range),
    );
    let body = move || {
        Suspend::new(async move {
            match series.await {
                Ok(Some((range, series))) => view! {
                    <div class="chart-row" data-step=series.step_secs data-points=series.points.len()>
                        {specs.iter().map(|spec| {
                            let data = Signal::stored(chart_data(spec, range, &series));
                            view! {
                                <LineChart id=spec.id title=spec.title unit=spec.unit
                                    fixed_top=spec.fixed_top data />
                            }
                        }).collect_view()}
                    </div>
                }
                .into_any(),
                Ok(None) => view! { <p class="empty-text">{hint}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            }
        })
    };
    view! {
        <section class="card metrics-card" id=id aria-labelledby=format!("{id}-title")>
            <div class="card-header">
                <h2 id=format!("{id}-title")>{title}</h2>
                <div class="range-switch" role="group" aria-label="Time range">
                    {Range::ALL.into_iter().map(|r| view! {
                        <button type="button" class="btn btn-secondary btn-small" data-range=r.key()
                            aria-pressed=move || if range.get() == r { "true" } else { "false" }
                            on:click=move |_| range.set(r)>
                            {r.label()}
                        </button>
                    }).collect_view()}
                </div>
            </div>
            <div class="card-body">
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>{body}</Transition>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::api::{HostPoint, MetricPoint};

    #[test]
    fn each_range_asks_for_the_resolution_base_keeps_for_it() {
        let asked: Vec<_> = Range::ALL
            .iter()
            .map(|r| (r.since(), r.step_secs(), r.refresh().as_secs()))
            .collect();
        assert_eq!(asked, [("1h", 10, 10), ("24h", 60, 60), ("7d", 3600, 60)]);
    }

    #[test]
    fn a_chart_takes_its_series_from_the_points_that_have_them() {
        let point = |at: &str, mem: Option<i64>, rx: i64| MetricPoint {
            at: at.into(),
            mem_bytes: mem,
            host: Some(HostPoint {
                mem_total_bytes: 1000,
                rx_bytes_per_sec: Some(rx),
                ..HostPoint::default()
            }),
            ..MetricPoint::default()
        };
        let series = MetricSeries {
            step_secs: 10,
            points: vec![
                point("1970-01-01T00:00:10Z", Some(250), 5),
                point("1970-01-01T00:00:20Z", None, 7),
            ],
        };
        let memory = chart_data(&HOST_CHARTS[1], Range::Hour, &series);
        assert_eq!(memory.lines[0].points, [(10_000, 25.0)]);
        assert_eq!(memory.step_ms, 10_000);
        let network = chart_data(&HOST_CHARTS[3], Range::Hour, &series);
        assert_eq!(network.lines[0].name, "In");
        assert_eq!(network.lines[0].points, [(10_000, 5.0), (20_000, 7.0)]);
    }
}
