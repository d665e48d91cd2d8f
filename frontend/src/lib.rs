//! The hydrate entry point: the server renders every page as HTML, then this WASM module takes
//! it over in place so forms validate inline and navigation stays client-side.

#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
