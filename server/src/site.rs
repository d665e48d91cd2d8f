//! The dashboard: Leptos routes (SSR pages and server functions under `/rpc`) and the front-end
//! bundle Trunk built into `target/site`, embedded in the binary so `dployr-server` serves
//! everything from any working directory.

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use control::ClientInfo;
use http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use rust_embed::RustEmbed;
use tower_http::limit::RequestBodyLimitLayer;

use crate::state::ServerState;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../target/site"]
struct Site;

/// Server-function bodies are small forms; refuse anything larger before reading it.
const MAX_RPC_BODY_BYTES: usize = 64 * 1024;

/// The app's routes, generated once per process. Generating runs the app with resource loading
/// suppressed through a process-wide flag (leptos#4773), so a page rendering on another server in
/// the same process (the API tests start dozens) while a second generation runs would hang forever.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(app::App));

pub fn router(state: ServerState) -> Router {
    let routes = ROUTES.clone();
    let ctx = {
        let base = state.base.clone();
        move || provide_context(base.clone())
    };
    let shell = {
        let options = state.leptos.clone();
        move || app::shell(options.clone())
    };
    Router::new()
        .route("/pkg/{*file}", get(asset))
        .leptos_routes_with_context(&state, routes, ctx, shell)
        .fallback(not_found_page)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signed_in_at_render,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_RPC_BODY_BYTES))
        .with_state(state)
}

/// Looks up who a page request comes from before the page renders (the signed-in layout reads
/// it synchronously: `app::server::SignedInAtRender` says why). Assets and server functions skip
/// it.
async fn signed_in_at_render(
    State(state): State<ServerState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if req.method() == Method::GET && !path.starts_with("/pkg/") && !path.starts_with("/rpc/") {
        let secure = state.base.config().secure_cookies();
        let token = app::server::session_token_in(req.headers(), secure);
        let client = req
            .extensions()
            .get::<ClientInfo>()
            .cloned()
            .unwrap_or_default();
        let me = app::server::me(&state.base, token.as_deref(), client).await;
        req.extensions_mut()
            .insert(app::server::SignedInAtRender(me));
    }
    next.run(req).await
}

/// A file of the embedded bundle. Names are stable (no hashes), so browsers revalidate. Text and
/// WASM go gzipped to clients that accept it, from a copy made once per process: compressing the
/// 3 MB bundle on every page load cost a second of CPU per load in a debug build.
async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(content) = Site::get(&format!("pkg/{file}")) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let gzip_ok = headers
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let gzipped = if gzip_ok && compressible(mime.essence_str()) {
        gzipped(&file, content.data.clone()).await
    } else {
        None
    };
    let mut res = match &gzipped {
        Some(bytes) => Body::from(bytes.clone()).into_response(),
        None => Body::from(content.data.into_owned()).into_response(),
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        h.insert(CONTENT_TYPE, v);
    }
    if gzipped.is_some() {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=0, must-revalidate"),
    );
    res
}

fn compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/wasm" | "application/javascript" | "image/svg+xml" | "application/json"
        )
}

/// The gzip (level 9) of an embedded file, made on first use and kept. Compressing runs on the
/// blocking pool and outside the lock, so a page's chunks compress in parallel and no request
/// waits on another file's compression (a rare duplicate first compression is harmless).
async fn gzipped(file: &str, data: std::borrow::Cow<'static, [u8]>) -> Option<axum::body::Bytes> {
    use std::collections::HashMap;
    use std::io::Write;
    use std::sync::Mutex;
    static CACHE: LazyLock<Mutex<HashMap<String, axum::body::Bytes>>> =
        LazyLock::new(Default::default);
    if let Some(hit) = CACHE.lock().ok()?.get(file) {
        return Some(hit.clone());
    }
    let bytes = tokio::task::spawn_blocking(move || {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).ok()?;
        gz.finish().ok().map(axum::body::Bytes::from)
    })
    .await
    .ok()??;
    CACHE.lock().ok()?.insert(file.to_string(), bytes.clone());
    Some(bytes)
}

/// Any other path renders the app, whose router shows the 404 page (and sets the status).
async fn not_found_page(State(state): State<ServerState>, req: Request) -> Response {
    let base = state.base.clone();
    let options = state.leptos.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(base.clone()),
        move || app::shell(options.clone()),
    );
    handler(req).await.into_response()
}

/// Whether the front-end bundle was built before this binary (tests and `--version` report it).
pub fn bundle_present() -> bool {
    Site::get("pkg/frontend_bg.wasm").is_some()
}
