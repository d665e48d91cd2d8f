//! Following `GET …/logs?follow=true` from the browser with `fetch`, reading the NDJSON body as
//! it arrives. When the connection ends (Base restarted, a proxy timed out, the network went
//! away) it reconnects with `since=<last seq>`, so nothing is shown twice and nothing stored in
//! between is missed; retries back off from 1 s to 15 s. A reader that falls behind Base's live
//! relay is told so in the stream (a line without `seq` after numbered ones); it then reconnects
//! at once, and the stored lines it missed come back as backlog (up to [`BACKLOG`] of them).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use leptos::prelude::window;
use proto::api::LogLine;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReadableStreamDefaultReader, RequestInit, Response};

use super::Link;
use super::buffer::LineSplitter;

/// Stored lines asked for on (re)connecting: Base's most per read.
pub const BACKLOG: u32 = 10_000;
const FIRST_RETRY_MS: i32 = 1_000;
const LAST_RETRY_MS: i32 = 15_000;

/// Stops a follower: aborts the request in flight and ends the loop.
#[derive(Clone, Default)]
pub struct Stopper {
    stopped: Rc<Cell<bool>>,
    request: Rc<RefCell<Option<AbortController>>>,
    on_stop: StopHook,
}

type StopHook = Rc<RefCell<Option<Box<dyn FnOnce()>>>>;

impl Stopper {
    pub fn stop(&self) {
        self.stopped.set(true);
        if let Some(c) = self.request.borrow_mut().take() {
            c.abort();
        }
        if let Some(f) = self.on_stop.borrow_mut().take() {
            f();
        }
    }

    /// Runs `f` once the follower is stopped (e.g. to drop lines not shown yet).
    pub fn on_stop(&self, f: impl FnOnce() + 'static) {
        *self.on_stop.borrow_mut() = Some(Box::new(f));
    }

    fn stopped(&self) -> bool {
        self.stopped.get()
    }
}

enum End {
    /// The response ended; reconnect after a pause.
    Closed,
    /// Base skipped lines for this reader; reconnect now to read them from storage.
    Lagged,
    /// The viewer is gone, or Base refused (signed out, no access): don't reconnect.
    Done,
}

/// Follows `path` (`/api/v1/services/{id}/logs` or `/api/v1/deployments/{id}/logs`), handing
/// each batch of lines to `on_lines` (which returns `false` once nobody shows them) and each
/// change of the connection to `on_link`.
pub fn follow(
    path: String,
    mut on_lines: impl FnMut(Vec<LogLine>) -> bool + 'static,
    on_link: impl Fn(Link) + 'static,
) -> Stopper {
    let stopper = Stopper::default();
    let handle = stopper.clone();
    leptos::task::spawn_local(async move {
        let mut since = 0i64;
        let mut retry = FIRST_RETRY_MS;
        while !handle.stopped() {
            let mut url = format!("{path}?follow=true&limit={BACKLOG}");
            if since > 0 {
                url.push_str(&format!("&since={since}"));
            }
            let end = read(&url, &handle, &mut since, &mut on_lines, &on_link).await;
            match end {
                Ok(End::Done) => return,
                Ok(End::Lagged) => continue,
                Ok(End::Closed) => retry = FIRST_RETRY_MS,
                Err(_) => {}
            }
            if handle.stopped() {
                return;
            }
            on_link(Link::Retrying);
            sleep(retry).await;
            retry = (retry * 2).min(LAST_RETRY_MS);
        }
    });
    stopper
}

async fn read(
    url: &str,
    handle: &Stopper,
    since: &mut i64,
    on_lines: &mut impl FnMut(Vec<LogLine>) -> bool,
    on_link: &impl Fn(Link),
) -> Result<End, JsValue> {
    let controller = AbortController::new()?;
    let init = RequestInit::new();
    init.set_method("GET");
    let headers = Headers::new()?;
    headers.set("Accept", "application/x-ndjson")?;
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    *handle.request.borrow_mut() = Some(controller);
    let response: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    if matches!(response.status(), 401 | 403 | 404) {
        on_link(Link::Refused(response.status()));
        return Ok(End::Done);
    }
    let Some(body) = response.body().filter(|_| response.ok()) else {
        return Err(JsValue::from(response.status()));
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    on_link(Link::Live);
    let mut splitter = LineSplitter::default();
    let mut numbered = false;
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        let done = Reflect::get(&chunk, &"done".into())?
            .as_bool()
            .unwrap_or(true);
        if done || handle.stopped() {
            return Ok(if handle.stopped() {
                End::Done
            } else {
                End::Closed
            });
        }
        let bytes = Uint8Array::new(&Reflect::get(&chunk, &"value".into())?).to_vec();
        let mut lines = splitter.push(&bytes);
        // Base's notes come first (older lines dropped) or after numbered lines (this reader fell
        // behind and Base skipped some): keep the note, then reconnect for the skipped lines.
        let mut lagged = false;
        for (i, l) in lines.iter().enumerate() {
            if l.seq > 0 {
                numbered = true;
            } else if numbered {
                lines.truncate(i + 1);
                lagged = true;
                break;
            }
        }
        if let Some(max) = lines.iter().map(|l| l.seq).max() {
            *since = (*since).max(max);
        }
        if !lines.is_empty() && !on_lines(lines) {
            handle.stop();
            let _ = reader.cancel();
            return Ok(End::Done);
        }
        if lagged {
            let _ = reader.cancel();
            return Ok(End::Lagged);
        }
    }
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}
