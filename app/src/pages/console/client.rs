//! The console's browser side: xterm.js, the WebSocket, reconnects and resizes.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use xterm_js_rs::addons::fit::FitAddon;
use xterm_js_rs::{Terminal, TerminalOptions, Theme};

use super::Link;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `Terminal.write(Uint8Array)`: xterm 5+ takes bytes in `write` (the bindings'
    /// `write_utf8` calls `writeUtf8`, which xterm 5 removed). The array is the socket's own
    /// buffer, handed over without a copy through WASM memory.
    type BytesSink;
    #[wasm_bindgen(method, js_name = write)]
    fn write(this: &BytesSink, data: &js_sys::Uint8Array);
}

fn write_bytes(term: &Terminal, data: &js_sys::Uint8Array) {
    term.unchecked_ref::<BytesSink>().write(data);
}

struct Live {
    term: Terminal,
    fit: FitAddon,
    socket: Option<web_sys::WebSocket>,
    /// Bumped on every new socket, so a stale socket's events are ignored.
    generation: u32,
    attempts: u32,
    closed_by_us: bool,
    _keep: Vec<Box<dyn std::any::Any>>,
}

thread_local! {
    /// The terminal on the page, for the Copy and Paste buttons.
    static CURRENT: RefCell<Option<Terminal>> = const { RefCell::new(None) };
}

pub fn copy_selection() {
    let text = CURRENT.with_borrow(|t| t.as_ref().map(|t| t.get_selection()));
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        let _ = window().navigator().clipboard().write_text(&text);
    }
}

pub fn paste_clipboard() {
    let promise = window().navigator().clipboard().read_text();
    leptos::task::spawn_local(async move {
        if let Ok(text) = wasm_bindgen_futures::JsFuture::from(promise).await
            && let Some(text) = text.as_string()
        {
            CURRENT.with_borrow(|t| {
                if let Some(t) = t {
                    t.paste(&text);
                    t.focus();
                }
            });
        }
    });
}

fn session_id(key: &str, fresh: bool) -> String {
    let storage = window().session_storage().ok().flatten();
    let name = format!("dployr-console-{key}");
    if !fresh
        && let Some(id) = storage
            .as_ref()
            .and_then(|s| s.get_item(&name).ok().flatten())
    {
        return id;
    }
    let id: String = (0..20)
        .map(|_| {
            let n = (js_sys::Math::random() * 36.0) as u32;
            char::from_digit(n.min(35), 36).unwrap_or('x')
        })
        .collect();
    if let Some(s) = storage {
        let _ = s.set_item(&name, &id);
    }
    id
}

pub fn mount(
    host: NodeRef<html::Div>,
    socket: String,
    key: String,
    link: RwSignal<Link>,
    restart: RwSignal<u32>,
) {
    let state: Rc<RefCell<Option<Live>>> = Rc::new(RefCell::new(None));
    let cleanup = state.clone();
    Effect::new(move |_| {
        let fresh = restart.get() > 0;
        let Some(el) = host.get() else { return };
        if let Some(old) = state.borrow_mut().take() {
            close(old);
        }
        el.set_inner_html("");
        let options = TerminalOptions::new();
        options.set_font_size(14);
        options.set_font_family("ui-monospace, 'DejaVu Sans Mono', monospace");
        options.set_cursor_blink(true);
        options.set_scrollback(5000);
        let theme = Theme::new();
        theme.set_background("#0b1020");
        theme.set_foreground("#e5e7eb");
        options.set_theme(&theme);
        let term = Terminal::new(&options);
        let fit = FitAddon::new();
        term.load_addon(fit.clone().unchecked_into());
        term.open(el.clone().unchecked_into());
        fit.fit();
        term.focus();
        CURRENT.with_borrow_mut(|t| *t = Some(term.clone().unchecked_into()));
        let sid = session_id(&key, fresh);
        *state.borrow_mut() = Some(Live {
            term,
            fit,
            socket: None,
            generation: 0,
            attempts: 0,
            closed_by_us: false,
            _keep: Vec::new(),
        });
        wire_terminal(&state);
        connect(state.clone(), socket.clone(), sid, link);
    });
    // The window's size drives the terminal's (and so the shell's).
    let resize_state = cleanup.clone();
    let on_resize = Closure::<dyn FnMut()>::new(move || {
        if let Some(live) = resize_state.borrow().as_ref() {
            live.fit.fit();
        }
    });
    let _ = window().add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
    let listener: js_sys::Function = on_resize
        .as_ref()
        .unchecked_ref::<js_sys::Function>()
        .clone();
    on_resize.forget();
    // The browser has one thread; the wrapper only satisfies `on_cleanup`'s bounds.
    let parts = send_wrapper::SendWrapper::new((listener, cleanup));
    on_cleanup(move || {
        let (listener, cleanup) = parts.take();
        CURRENT.with_borrow_mut(|t| *t = None);
        let _ = window().remove_event_listener_with_callback("resize", &listener);
        if let Some(live) = cleanup.borrow_mut().take() {
            close(live);
        }
    });
}

fn close(mut live: Live) {
    live.closed_by_us = true;
    if let Some(s) = live.socket.take() {
        let _ = s.close();
    }
    live.term.dispose();
}

/// Keystrokes and size changes go to whichever socket is current.
fn wire_terminal(state: &Rc<RefCell<Option<Live>>>) {
    let s = state.clone();
    let on_data = Closure::<dyn FnMut(String)>::new(move |data: String| {
        if let Some(sock) = s.borrow().as_ref().and_then(|l| l.socket.clone())
            && sock.ready_state() == web_sys::WebSocket::OPEN
        {
            let _ = sock.send_with_u8_array(data.as_bytes());
        }
    });
    let s = state.clone();
    let on_resize = Closure::<dyn FnMut(js_sys::Object)>::new(move |size: js_sys::Object| {
        let get = |k: &str| {
            js_sys::Reflect::get(&size, &k.into())
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0) as u32
        };
        let msg = format!(
            r#"{{"resize":{{"cols":{},"rows":{}}}}}"#,
            get("cols"),
            get("rows")
        );
        if let Some(sock) = s.borrow().as_ref().and_then(|l| l.socket.clone())
            && sock.ready_state() == web_sys::WebSocket::OPEN
        {
            let _ = sock.send_with_str(&msg);
        }
    });
    let mut guard = state.borrow_mut();
    let Some(live) = guard.as_mut() else { return };
    live.term.on_data(on_data.as_ref().unchecked_ref());
    live.term.on_resize(on_resize.as_ref().unchecked_ref());
    live._keep.push(Box::new(on_data));
    live._keep.push(Box::new(on_resize));
}

fn connect(state: Rc<RefCell<Option<Live>>>, path: String, sid: String, link: RwSignal<Link>) {
    let (cols, rows, generation) = {
        let mut guard = state.borrow_mut();
        let Some(live) = guard.as_mut() else { return };
        live.generation += 1;
        (live.term.get_cols(), live.term.get_rows(), live.generation)
    };
    let location = window().location();
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let Ok(host) = location.host() else { return };
    let url = format!("{scheme}://{host}{path}?session={sid}&cols={cols}&rows={rows}");
    let Ok(socket) = web_sys::WebSocket::new(&url) else {
        link.set(Link::Refused(
            "the browser could not open a WebSocket".into(),
        ));
        return;
    };
    socket.set_binary_type(web_sys::BinaryType::Arraybuffer);
    let current = {
        let s = state.clone();
        move || {
            s.borrow()
                .as_ref()
                .is_some_and(|l| l.generation == generation && !l.closed_by_us)
        }
    };
    let s = state.clone();
    let is_current = current.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if !is_current() {
                return;
            }
            let data = ev.data();
            if let Some(text) = data.as_string() {
                let Ok(event) = serde_json::from_str::<serde_json::Value>(&text) else {
                    return;
                };
                if let Some(a) = event.get("Attached") {
                    if let Some(l) = s.borrow_mut().as_mut() {
                        l.attempts = 0;
                    }
                    let resumed = a.get("resumed").and_then(|r| r.as_bool()).unwrap_or(false);
                    let _ = link.try_set(Link::Attached { resumed });
                } else if let Some(e) = event.get("Ended") {
                    let why = e
                        .get("reason")
                        .and_then(|r| r.as_str())
                        .unwrap_or("")
                        .to_string();
                    let _ = link.try_set(Link::Ended(why));
                } else if let Some(r) = event.get("Refused") {
                    let why = r
                        .get("reason")
                        .and_then(|r| r.as_str())
                        .unwrap_or("")
                        .to_string();
                    let _ = link.try_set(Link::Refused(why));
                }
            } else if let Ok(buf) = data.dyn_into::<js_sys::ArrayBuffer>()
                && let Some(l) = s.borrow().as_ref()
            {
                write_bytes(&l.term, &js_sys::Uint8Array::new(&buf));
            }
        });
    let s = state.clone();
    let is_current = current.clone();
    let (retry_path, retry_sid) = (path.clone(), sid.clone());
    let on_close = Closure::<dyn FnMut(web_sys::CloseEvent)>::new(
        move |ev: web_sys::CloseEvent| {
            if !is_current() {
                return;
            }
            let over = matches!(
                link.try_get_untracked(),
                Some(Link::Ended(_) | Link::Refused(_))
            );
            if over {
                return;
            }
            // Refused at the upgrade (403, 404, 409) closes before opening, with code 1006.
            let attempts = s.borrow().as_ref().map(|l| l.attempts).unwrap_or(0);
            if attempts >= 8 {
                let _ = link.try_set(Link::Refused(format!(
                "cannot reach the console (code {}): you may not have access, or the instance is offline or has consoles switched off",
                ev.code()
            )));
                return;
            }
            let _ = link.try_set(Link::Reconnecting);
            if let Some(l) = s.borrow_mut().as_mut() {
                l.attempts += 1;
            }
            let delay = 250 * (1 << attempts.min(5));
            let (s2, path2, sid2) = (s.clone(), retry_path.clone(), retry_sid.clone());
            let retry = Closure::once_into_js(move || connect(s2, path2, sid2, link));
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(
                retry.unchecked_ref(),
                delay,
            );
        },
    );
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut guard = state.borrow_mut();
    let Some(live) = guard.as_mut() else { return };
    live.socket = Some(socket);
    live._keep.push(Box::new(on_message));
    live._keep.push(Box::new(on_close));
}
