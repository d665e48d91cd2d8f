//! [`LineChart`]: a time series drawn as SVG by the app itself, so no chart library weighs on the
//! WASM bundle. One or more lines over a time span ending at the newest point (the first line's
//! area filled), a value axis from 0 to a round top with its unit, UTC times at both ends, the
//! latest value in the caption, and under the pointer the value at that time. The SVG is
//! `role="img"` with an `aria-label` stating the latest values, for people who cannot see it.
//! The arithmetic lives in [`scale`].

pub mod scale;

use leptos::prelude::*;
pub use scale::Unit;
use scale::{Frame, area_path, line_path, nice_ceiling, time_label};

/// One series of a chart: its name and its points (ms since the epoch, value), oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: &'static str,
    pub points: Vec<(i64, f64)>,
}

impl Line {
    fn latest(&self) -> Option<(i64, f64)> {
        self.points.last().copied()
    }

    /// The point nearest to `t`.
    fn at(&self, t: i64) -> Option<(i64, f64)> {
        self.points
            .iter()
            .copied()
            .min_by_key(|(pt, _)| (pt - t).abs())
    }
}

/// What a chart shows at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub lines: Vec<Line>,
    /// The span of the time axis, ending at the newest point.
    pub span_ms: i64,
    /// The spacing of points: where two are more than two steps apart the line is lifted.
    pub step_ms: i64,
}

// The SVG's own coordinates; it scales to the width of its card.
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 120.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 16.0;

impl ChartData {
    fn frame(&self, unit: Unit, fixed_top: Option<f64>) -> Frame {
        let newest = self
            .lines
            .iter()
            .filter_map(|l| l.latest())
            .map(|(t, _)| t)
            .max();
        let t1 = newest.unwrap_or(0);
        let t0 = t1 - self.span_ms;
        let largest = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter())
            .filter(|(t, _)| *t >= t0)
            .map(|(_, v)| *v)
            .fold(0.0, f64::max);
        // Small figures still get an axis that reads (1 %, 1 MB, 1 kB/s, 1 restart, 1 ms).
        let floor = match unit {
            Unit::Percent | Unit::Count | Unit::Millis => 1.0,
            Unit::Bytes => 1e6,
            Unit::BytesPerSec => 1e3,
        };
        Frame {
            left: LEFT,
            top: TOP,
            width: WIDTH - LEFT - RIGHT,
            height: HEIGHT - TOP - BOTTOM,
            t0,
            t1,
            top_value: fixed_top
                .filter(|top| *top >= largest)
                .unwrap_or_else(|| nice_ceiling(largest, floor)),
        }
    }
}

/// A chart named `id` (the figure's `data-chart`), redrawn whenever `data` changes. `fixed_top`
/// (if any) pins the value axis (100 for shares of a machine) unless a value goes above it.
#[component]
pub fn LineChart(
    id: &'static str,
    title: &'static str,
    unit: Unit,
    fixed_top: Option<f64>,
    data: Signal<ChartData>,
) -> impl IntoView {
    // The time under the pointer, while it is over the plot.
    let hover = RwSignal::new(None::<i64>);
    let frame = Memo::new(move |_| data.with(|d| d.frame(unit, fixed_top)));
    let latest_text = move || {
        data.with(|d| {
            d.lines
                .first()
                .and_then(Line::latest)
                .map(|(_, v)| unit.format(v))
        })
    };
    let caption = move || match hover.get() {
        Some(t) => data.with(|d| {
            let span = d.span_ms;
            d.lines.first().and_then(|l| l.at(t)).map(|(pt, v)| {
                format!(
                    "{} UTC: {}",
                    time_label(pt, span.min(86_400_000)),
                    unit.format(v)
                )
            })
        }),
        None => latest_text(),
    };
    let aria = move || {
        data.with(|d| {
            let values: Vec<String> = d
                .lines
                .iter()
                .map(|l| match l.latest() {
                    Some((_, v)) => format!("{} {}", l.name, unit.format(v)),
                    None => format!("{} no data yet", l.name),
                })
                .collect();
            format!("{title}, latest: {}", values.join(", "))
        })
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(target) = ev.current_target() else {
            return;
        };
        let rect = target
            .unchecked_into::<web_sys::Element>()
            .get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * WIDTH;
        let f = frame.get_untracked();
        let share = ((x - f.left) / f.width).clamp(0.0, 1.0);
        hover.set(Some(f.t0 + (share * (f.t1 - f.t0) as f64) as i64));
    };
    let drawing = move || {
        let f = frame.get();
        let (lines, span, gap) = data.with(|d| (d.lines.clone(), d.span_ms, 2 * d.step_ms + 1));
        let empty = lines.iter().all(|l| l.points.is_empty());
        let area = lines
            .first()
            .map(|l| area_path(&l.points, &f, gap))
            .unwrap_or_default();
        let ticks = [0.0, f.top_value / 2.0, f.top_value];
        view! {
            {ticks.into_iter().map(|v| view! {
                <line class="chart-grid" x1=f.left x2=f.left + f.width y1=f.y(v) y2=f.y(v) />
                <text class="chart-axis" x=f.left - 4.0 y=f.y(v) + 3.0 text-anchor="end">{unit.format(v)}</text>
            }).collect_view()}
            <path class="chart-area" d=area />
            {lines.into_iter().enumerate().map(|(i, l)| view! {
                <path class=format!("chart-line chart-line-{i}") data-line=l.name
                    data-points=l.points.len() d=line_path(&l.points, &f, gap) />
            }).collect_view()}
            {(!empty).then(|| view! {
                <text class="chart-axis" x=f.left y=HEIGHT - 3.0>{time_label(f.t0, span)}</text>
                <text class="chart-axis" x=f.left + f.width y=HEIGHT - 3.0 text-anchor="end">
                    {format!("{} UTC", time_label(f.t1, span))}
                </text>
            })}
            {empty.then(|| view! {
                <text class="chart-empty" x=f.left + f.width / 2.0 y=f.top + f.height / 2.0 text-anchor="middle">
                    "No data yet"
                </text>
            })}
        }
    };
    let cursor = move || {
        hover.get().map(|t| {
            let f = frame.get();
            view! { <line class="chart-cursor" x1=f.x(t) x2=f.x(t) y1=f.top y2=f.top + f.height /> }
        })
    };
    let legend = move || {
        data.with(|d| {
            (d.lines.len() > 1).then(|| {
                d.lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let value = l.latest().map(|(_, v)| unit.format(v)).unwrap_or("–".into());
                        view! { <li class=format!("chart-key chart-key-{i}")>{l.name}": "{value}</li> }
                    })
                    .collect_view()
            })
        })
    };
    view! {
        <figure class="chart" data-chart=id>
            <figcaption class="chart-head">
                <span class="chart-title">{title}</span>
                <span class="chart-latest" data-latest=move || latest_text().unwrap_or_default()>
                    {move || caption().unwrap_or_else(|| "–".into())}
                </span>
            </figcaption>
            <svg class="chart-svg" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-label=aria on:mousemove=on_move on:mouseleave=move |_| hover.set(None)>
                {drawing}
                {cursor}
            </svg>
            <ul class="chart-legend">{legend}</ul>
        </figure>
    }
}
