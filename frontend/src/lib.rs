//! The hydrate entry point: the server renders every page as HTML, then this WASM module takes
//! it over in place so forms validate inline and navigation stays client-side.

#![recursion_limit = "256"]

/// Hydrates `<body>`, awaiting the current page's lazily loaded code (every page is a lazy route,
/// `app/src/lib.rs`), then marks the page hydrated: only then do its buttons work. The mark waits
/// one more turn of the event loop (a 0 ms timeout), so the Suspense bodies whose data came with
/// the page, which resolve in microtasks after the hydration pass, have their handlers too.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a page has a body");
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        leptos::prelude::set_timeout(app::mark_hydrated, std::time::Duration::ZERO);
    });
}
