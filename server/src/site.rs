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
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
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
        let token = app::server::session_token_in(req.headers());
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

/// A file of the embedded bundle. Names are stable (no hashes), so browsers revalidate.
async fn asset(Path(file): Path<String>) -> Response {
    match Site::get(&format!("pkg/{file}")) {
        Some(content) => {
            let mime = mime_guess::from_path(&file).first_or_octet_stream();
            let mut res = Body::from(content.data.into_owned()).into_response();
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
                h.insert(CONTENT_TYPE, v);
            }
            h.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=0, must-revalidate"),
            );
            res
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
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
