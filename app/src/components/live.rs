//! Following a live view over a WebSocket: the server renders a page from a resource, and once
//! hydrated the page opens `path` on this host and keeps a signal equal to the latest JSON
//! snapshot the server pushes (sent on every change, never polled). On the server this does
//! nothing, so server-rendered HTML shows the resource's data.

use leptos::prelude::*;
use serde::de::DeserializeOwned;

/// Keeps `sink` equal to the latest message on `path` (e.g. `/api/v1/services/svc_…/live`),
/// reconnecting when `path` changes. A socket whose page is gone closes at its next message.
///
/// Call it where the data is already shown (inside the resolved `Suspense`), so the socket opens
/// after that part of the page is hydrated and no push can re-render nodes hydration has not
/// reached yet.
pub fn follow<T>(path: impl Fn() -> String + Send + Sync + 'static, sink: RwSignal<Option<T>>)
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        Effect::new(move |previous: Option<Option<web_sys::WebSocket>>| {
            if let Some(Some(old)) = previous {
                let _ = old.close();
            }
            let location = window().location();
            let scheme = if location.protocol().ok().as_deref() == Some("https:") {
                "wss"
            } else {
                "ws"
            };
            let host = location.host().ok()?;
            let socket = web_sys::WebSocket::new(&format!("{scheme}://{host}{}", path())).ok()?;
            let this = socket.clone();
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |ev: web_sys::MessageEvent| {
                    let Some(value) = ev
                        .data()
                        .as_string()
                        .and_then(|text| serde_json::from_str::<T>(&text).ok())
                    else {
                        return;
                    };
                    // `try_set` hands the value back when the page (and its signal) is gone.
                    if sink.try_set(Some(value)).is_some() {
                        let _ = this.close();
                    }
                },
            );
            socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            Some(socket)
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (path, sink);
    }
}
