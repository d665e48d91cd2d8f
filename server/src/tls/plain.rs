//! The plain-HTTP listener beside Base's HTTPS one (`--http-listen`): it answers ACME HTTP-01
//! challenges (`/.well-known/acme-challenge/<token>`) from the certificate store and sends
//! everything else to the same path on the https public URL. The redirect goes to the public
//! URL, never to the request's `Host`, so it cannot be pointed at another site.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use agent::ingress::certs::Certificates;

#[derive(Clone)]
struct Plain {
    challenges: Option<Certificates>,
    /// `https://host[:port]`, no trailing slash.
    origin: String,
}

/// The plain listener's routes; `challenges` is the ACME store (none with `--tls files`).
pub fn router(challenges: Option<Certificates>, public_url: &url::Url) -> Router {
    let state = Plain {
        challenges,
        origin: public_url.origin().ascii_serialization(),
    };
    Router::new()
        .route("/.well-known/acme-challenge/{token}", get(challenge))
        .fallback(to_https)
        .with_state(state)
}

async fn challenge(State(plain): State<Plain>, Path(token): Path<String>) -> Response {
    match plain.challenges.as_ref().and_then(|c| c.http01(&token)) {
        Some(answer) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], answer).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn to_https(State(plain): State<Plain>, uri: Uri) -> Redirect {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("{}{path}", plain.origin))
}
