//! The service page's live log viewer: the service's output (or one deployment's, picked in the
//! deployment list) as it arrives, from `GET …/logs?follow=true` (see `logview::stream`).
//!
//! - Follows the tail unless the person scrolls up or presses Pause; Resume jumps back to the
//!   end. Lines that arrive meanwhile are kept (and counted on the button).
//! - Search shows only the matching lines, hits marked, with their count.
//! - ANSI colours become spans with classes and inline colours; text is only ever text.
//! - Virtualised: every row is [`ROW_PX`] high and only the rows in view (plus [`OVERSCAN`]) are
//!   in the DOM, so 100,000 lines scroll like 100. The browser holds the newest
//!   [`CAP`](crate::logview::buffer::CAP) lines and says how many it let go.
//!
//! The server renders the empty frame; the stream opens once the page is hydrated.

use leptos::html;
use leptos::prelude::*;
use proto::wire::LogStream;

use crate::logview::Link;
use crate::logview::buffer::{CAP, Entry, LogBuffer, clock_text};
use crate::logview::hits::{self, Piece};
use crate::logview::window::{self, Window};

/// Height of one row; `style/services.css` gives `.log-row` the same.
pub const ROW_PX: f64 = 20.0;
/// Rows drawn above and below the viewport.
const OVERSCAN: usize = 12;
/// The viewport's height until the browser says otherwise (`.log-scroll` is 30rem).
const VIEWPORT_PX: f64 = 480.0;
/// How often new lines are drawn while they stream in.
#[cfg(feature = "hydrate")]
const FLUSH: std::time::Duration = std::time::Duration::from_millis(50);
/// How far from the end still counts as "at the end".
const SLACK_PX: f64 = 4.0;
/// Scroll events this long after the person's input count as their scrolling.
const INTENT_MS: f64 = 1_500.0;

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

#[component]
pub fn LogViewer(service_id: String, deployment: RwSignal<Option<String>>) -> impl IntoView {
    let buffer = RwSignal::new(LogBuffer::new(CAP));
    let link = RwSignal::new(Link::Connecting);
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport = RwSignal::new(VIEWPORT_PX);
    let paused = RwSignal::new(false);
    // At the end of the list (the person has not scrolled up).
    let pinned = RwSignal::new(true);
    let unseen = RwSignal::new(0_usize);
    let search = RwSignal::new(String::new());
    let scroller = NodeRef::<html::Div>::new();
    let following = move || !paused.get() && pinned.get();
    // For callbacks that may run after the viewer is gone (animation frames, the stream): a
    // disposed signal reads as "not following" instead of panicking.
    let still_following = move || {
        paused.try_get_untracked() == Some(false) && pinned.try_get_untracked() == Some(true)
    };

    open_stream(
        service_id,
        deployment,
        buffer,
        link,
        unseen,
        still_following,
    );

    let to_bottom = move || {
        let Some(Some(el)) = scroller.try_get_untracked() else {
            return;
        };
        let Some(rows) = buffer.try_with_untracked(LogBuffer::rows) else {
            return;
        };
        let target = window::bottom(
            window::content_px(rows, ROW_PX),
            f64::from(el.client_height()),
        );
        el.set_scroll_top(target as i32);
        set_if_changed(scroll_top, target);
    };
    // Follow the tail: after the new rows are drawn, scroll to the last one.
    Effect::new(move |_| {
        let _ = buffer.with(LogBuffer::rows);
        if following() {
            request_animation_frame(move || {
                if still_following() {
                    to_bottom();
                }
            });
        }
    });
    Effect::new(move |_| {
        let needle = search.get();
        buffer.update(|b| b.set_search(&needle));
        // A new search shows the newest matches (unless paused).
        set_if_changed(pinned, true);
    });

    // When the person last touched the list (wheel, touch, keys, pointer on the scrollbar). Only
    // scrolling that follows such input stops the following: the browser also scrolls by itself
    // when the list shrinks (a search) or while new rows are drawn, and that must not.
    let touched = StoredValue::new(f64::NEG_INFINITY);
    let touch = move || touched.set_value(now_ms());
    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = f64::from(el.scroll_top());
        let height = f64::from(el.client_height());
        let end = window::at_bottom(top, height, f64::from(el.scroll_height()), SLACK_PX);
        // Setting a signal notifies even when the value is the same; only real changes redraw.
        set_if_changed(scroll_top, top);
        set_if_changed(viewport, height);
        if end || now_ms() - touched.get_value() < INTENT_MS {
            set_if_changed(pinned, end);
        }
        if end && !paused.get_untracked() {
            set_if_changed(unseen, 0);
        }
    };
    let toggle = move |_| {
        if following() {
            paused.set(true);
        } else {
            paused.set(false);
            pinned.set(true);
            unseen.set(0);
            to_bottom();
        }
    };

    let rows = move || buffer.with(LogBuffer::rows);
    let shown = Memo::new(move |_| {
        window::visible(scroll_top.get(), viewport.get(), ROW_PX, rows(), OVERSCAN)
    });
    let source = move || match deployment.get() {
        Some(d) => format!("deployment {d}"),
        None => "all deployments".to_string(),
    };

    view! {
        <section class="card log-viewer" aria-labelledby="logs-title" id="logs">
            <div class="card-header log-toolbar">
                <h2 id="logs-title">"Logs"</h2>
                <span class="muted log-source" id="log-source">{source}</span>
                {move || deployment.get().is_some().then(|| view! {
                    <button type="button" class="btn btn-secondary btn-small" id="log-all"
                        on:click=move |_| deployment.set(None)>"All deployments"</button>
                })}
                <span class=move || format!("log-link log-link-{}", link.get().label())
                    id="log-link" data-link=move || link.get().label()>{move || link.get().label()}</span>
                <div class="log-tools">
                    <label for="log-search" class="visually-hidden">"Search the logs"</label>
                    <input id="log-search" type="search" placeholder="Search" autocomplete="off"
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev)) />
                    {move || buffer.with(|b| b.searching().then(|| {
                        let n = b.match_count();
                        view! { <span class="muted" id="log-matches" data-count=n>
                            {format!("{n} {}", if n == 1 { "match" } else { "matches" })}</span> }
                    }))}
                    <button type="button" class="btn btn-secondary btn-small" id="log-pause"
                        aria-pressed=move || (!following()).to_string() on:click=toggle>
                        {move || match (following(), unseen.get()) {
                            (true, _) => "Pause".to_string(),
                            (false, 0) => "Resume".to_string(),
                            (false, n) => format!("Resume ({n} new)"),
                        }}
                    </button>
                </div>
            </div>
            {move || buffer.with(|b| (b.dropped() > 0).then(|| view! {
                <p class="log-dropped" role="note">
                    {format!("{} older lines are no longer held here (the newest {CAP} are).", b.dropped())}
                </p>
            }))}
            <div class="log-scroll" node_ref=scroller on:scroll=on_scroll tabindex="0"
                on:wheel=move |_| touch() on:touchmove=move |_| touch()
                on:keydown=move |_| touch() on:pointerdown=move |_| touch()
                role="log" aria-live="off" aria-label="Log lines" data-rows=rows>
                {move || (rows() == 0).then(|| view! {
                    <p class="log-empty muted">{move || if buffer.with(LogBuffer::searching) {
                        "No line matches."
                    } else {
                        "No output yet."
                    }}</p>
                })}
                <div class="log-spacer"
                    style:height=move || format!("{}px", window::content_px(rows(), ROW_PX))>
                    <div class="log-rows"
                        style:transform=move || format!("translateY({}px)", shown.get().first as f64 * ROW_PX)>
                        {move || draw(buffer, shown.get())}
                    </div>
                </div>
            </div>
            <p class="log-status muted" id="log-count" data-count=move || buffer.with(LogBuffer::len)>
                {move || format!("{} lines", buffer.with(LogBuffer::len))}
            </p>
        </section>
    }
}

fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.try_with_untracked(|v| *v != value) == Some(true) {
        signal.set(value);
    }
}

/// The rows of `w`, drawn from the buffer.
fn draw(buffer: RwSignal<LogBuffer>, w: Window) -> impl IntoView {
    buffer.with(|b| {
        let needle = b.needle().to_string();
        (w.first..w.end)
            .filter_map(|i| b.row(i))
            .map(|(_, e)| row(e, &needle))
            .collect_view()
    })
}

fn row(e: &Entry, needle: &str) -> impl IntoView + use<> {
    let hits = hits::find_all(&e.line.text, needle);
    let (kind, mark) = match e.stream {
        LogStream::Stdout => ("log-row", ""),
        LogStream::Stderr => ("log-row log-stderr", "err"),
        LogStream::System => ("log-row log-system", "dployr"),
    };
    let time = e.at_ms.map(clock_text).unwrap_or_default();
    let pieces = hits::pieces(&e.line, &hits);
    view! {
        <div class=kind data-seq=e.seq>
            <span class="log-time">{time}</span>
            <span class="log-mark">{mark}</span>
            <span class="log-text">{pieces.into_iter().map(piece).collect_view()}</span>
        </div>
    }
}

fn piece(p: Piece) -> impl IntoView {
    let mut class = p.style.classes();
    if p.hit {
        class.push_str(if class.is_empty() {
            "log-hit"
        } else {
            " log-hit"
        });
    }
    let style = p.style.css();
    view! {
        <span class=(!class.is_empty()).then_some(class) style=(!style.is_empty()).then_some(style)>
            {p.text}
        </span>
    }
}

/// Opens the stream once hydrated (Effects never run on the server), again whenever the picked
/// deployment changes, and closes it when the viewer goes.
#[allow(unused_variables)]
fn open_stream(
    service_id: String,
    deployment: RwSignal<Option<String>>,
    buffer: RwSignal<LogBuffer>,
    link: RwSignal<Link>,
    unseen: RwSignal<usize>,
    following: impl Fn() -> bool + Copy + Send + Sync + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use std::cell::{Cell, RefCell};
        use std::rc::Rc;

        use proto::api::LogLine;

        use crate::logview::stream::{self, Stopper};
        let current = StoredValue::new_local(None::<Stopper>);
        Effect::new(move |_| {
            let path = match deployment.get() {
                Some(d) => format!("/api/v1/deployments/{d}/logs"),
                None => format!("/api/v1/services/{service_id}/logs"),
            };
            current.update_value(|c| {
                if let Some(s) = c.take() {
                    s.stop();
                }
            });
            buffer.update(|b| {
                let needle = b.needle().to_string();
                *b = LogBuffer::new(CAP);
                b.set_search(&needle);
            });
            link.set(Link::Connecting);
            // Lines are read as fast as they come (so Base never has to skip any for this
            // reader) but shown in batches every FLUSH_MS: drawing the rows once per chunk
            // fell behind a 10,000-lines-a-second service on a busy machine.
            let pending: Rc<RefCell<Vec<LogLine>>> = Rc::default();
            let stream_stopped: Rc<Cell<bool>> = Rc::default();
            let stopped = stream_stopped.clone();
            let flush = {
                let pending = pending.clone();
                move || {
                    let lines = std::mem::take(&mut *pending.borrow_mut());
                    if stopped.get() || lines.is_empty() {
                        return;
                    }
                    if !following() {
                        unseen.try_update(|u| *u += lines.len());
                    }
                    buffer.try_update(|b| b.extend(lines));
                }
            };
            let s = stream::follow(
                path,
                move |lines| {
                    let first = pending.borrow().is_empty();
                    pending.borrow_mut().extend(lines);
                    if first {
                        set_timeout(flush.clone(), FLUSH);
                    }
                    buffer.try_with_untracked(|_| ()).is_some()
                },
                move |l| {
                    link.try_set(l);
                },
            );
            s.on_stop(move || stream_stopped.set(true));
            current.set_value(Some(s));
        });
        on_cleanup(move || {
            current.try_update_value(|c| {
                if let Some(s) = c.take() {
                    s.stop();
                }
            });
        });
    }
}
