//! The REST API under `/api/v1`, for the CLI and CI. Handlers are thin: extract, call `control`,
//! map the error ([`error`]). Bodies are the types in `proto::api`.
//!
//! - [`extract`]: the signed-in actor and JSON bodies with our error shape.
//! - [`auth`]: sign-up, log-in, log-out, password, `me`.
//! - [`account`]: the person's own security log and sessions (list, sign out one or the others).
//! - [`clusters`]: list, create, show, rename, delete (Owner, `?confirm=<name>`).
//! - [`instances`]: add (join token + install command), list with status, remove.
//! - [`services`]: create, list, show, change, delete; live list and live service (WebSockets).
//! - [`live`]: the push-on-change loop those WebSockets share.
//! - [`domains`]: a service's custom domains: list, add, verify, change, remove, certificate.
//! - [`env`]: a service's variables and write-only secrets: list, set, remove, import.
//! - [`hooks`]: a service's push-to-deploy webhook: show, enable or rotate, switch off; and the
//!   public `/hooks/{provider}/{service}` route Git hosts post to (merged outside `/api/v1`).
//! - [`events`]: the audit log, filtered and paged, as JSON, NDJSON or CSV.
//! - [`team`]: members and roles, invitations, API tokens.
//! - [`two_factor`]: a person's TOTP two-factor (setup, confirm, step-up, off), a sign-in's
//!   second step, and a cluster's requirement of it.
//! - [`metrics`]: a service's or an instance's stored metrics (any member).
//! - [`notifications`]: a cluster's alert channels: list, add, change, remove, test, deliveries.
//! - [`logs`]: a service's or a deployment's output, stored and live (NDJSON or SSE).
//! - [`deployments`]: deploy (202), list, show, cancel; roll back, restart, stop, start.
//! - [`console`]: a browser terminal on a service or an instance (WebSocket, Admin+).
//! - [`files`]: the file explorer: list, download, archive, upload, mkdir, rename, delete.
//! - [`oidc`]: CI OIDC federation: a cluster's trusted issuers and repositories, and the
//!   exchange of a CI job's identity token for a short-lived API token.
//! - [`openapi`]: `GET /api/v1/openapi.json`, generated from the handlers and `proto::api`.
//! - [`page`]: cursor pagination (`?limit=&cursor=` → `next_cursor`) of the lists.

pub mod account;
pub mod auth;
pub mod clusters;
pub mod console;
pub mod deployments;
pub mod domains;
pub mod env;
pub mod error;
pub mod events;
pub mod extract;
pub mod files;
pub mod hooks;
pub mod instances;
pub mod live;
pub mod logs;
pub mod metrics;
pub mod notifications;
pub mod oidc;
pub mod openapi;
pub mod page;
pub mod services;
pub mod team;
pub mod two_factor;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use http::StatusCode;

use crate::state::ServerState;
use error::ApiError;

/// JSON bodies of this API are small; anything bigger is refused with 413 before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> Router<ServerState> {
    routes()
        .router
        .fallback(|| async { ApiError::Status(StatusCode::NOT_FOUND, "no such API route".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Every route's path as registered, for the test that finds each one in the OpenAPI document.
pub fn route_paths() -> Vec<&'static str> {
    routes().paths
}

/// The router with the path of every route it was given: `route` is the only way in, so a new
/// route cannot be left out of [`route_paths`].
#[derive(Default)]
struct Routes {
    router: Router<ServerState>,
    paths: Vec<&'static str>,
}

impl Routes {
    fn route(mut self, path: &'static str, methods: MethodRouter<ServerState>) -> Self {
        self.router = self.router.route(path, methods);
        self.paths.push(path);
        self
    }
}

fn routes() -> Routes {
    Routes::default()
        .route("/openapi.json", get(openapi::document))
        .route("/auth/signup", post(auth::signup))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/password", post(auth::change_password))
        .route("/auth/login/2fa", post(two_factor::login_code))
        .route(
            "/account/2fa",
            get(two_factor::status).delete(two_factor::disable),
        )
        .route("/account/2fa/setup", post(two_factor::setup))
        .route("/account/2fa/confirm", post(two_factor::confirm))
        .route("/account/2fa/step-up", post(two_factor::step_up))
        .route("/account/2fa/backup-codes", post(two_factor::backup_codes))
        .route("/clusters/{id}/require-2fa", put(two_factor::require))
        .route("/auth/oidc/exchange", post(oidc::exchange))
        .route("/me", get(auth::me))
        .route("/account/events", get(account::events))
        .route("/account/sessions", get(account::sessions))
        .route("/account/sessions/{id}", delete(account::revoke))
        .route(
            "/account/sessions/revoke-others",
            post(account::revoke_others),
        )
        .route("/clusters", get(clusters::list).post(clusters::create))
        .route(
            "/clusters/{id}",
            patch(clusters::update)
                .get(clusters::show)
                .delete(clusters::delete),
        )
        .route(
            "/clusters/{id}/instances",
            get(instances::list).post(instances::create),
        )
        .route("/clusters/{id}/instances/live", get(instances::live))
        .route(
            "/instances/{id}",
            delete(instances::delete).patch(instances::update),
        )
        .route("/instances/{id}/console", get(console::of_instance))
        .route("/instances/{id}/metrics", get(metrics::of_instance))
        .route("/services/{id}/console", get(console::of_service))
        .route(
            "/services/{id}/files",
            get(files::list).delete(files::delete),
        )
        .route(
            "/services/{id}/files/content",
            get(files::content).put(files::upload),
        )
        .route("/services/{id}/files/archive", get(files::archive))
        .route("/services/{id}/files/mkdir", post(files::mkdir))
        .route("/services/{id}/files/rename", post(files::rename))
        .route(
            "/clusters/{id}/services",
            get(services::list).post(services::create),
        )
        .route("/clusters/{id}/services/live", get(services::live_list))
        .route("/services/{id}/live", get(services::live_one))
        .route(
            "/services/{id}",
            get(services::show)
                .patch(services::update)
                .delete(services::delete),
        )
        .route(
            "/services/{id}/deployments",
            get(deployments::list).post(deployments::create),
        )
        .route("/clusters/{id}/events", get(events::list))
        .route(
            "/clusters/{id}/notifications",
            get(notifications::list).post(notifications::create),
        )
        .route(
            "/clusters/{id}/notifications/{channel}",
            patch(notifications::update).delete(notifications::delete),
        )
        .route(
            "/clusters/{id}/notifications/{channel}/test",
            post(notifications::test),
        )
        .route(
            "/clusters/{id}/notifications/{channel}/deliveries",
            get(notifications::deliveries),
        )
        .route("/clusters/{id}/members", get(team::members))
        .route(
            "/clusters/{id}/members/{user}",
            patch(team::change_role).delete(team::remove_member),
        )
        .route(
            "/clusters/{id}/invites",
            get(team::invites).post(team::invite),
        )
        .route(
            "/clusters/{id}/invites/{invite}",
            delete(team::revoke_invite),
        )
        .route("/invites/{token}", get(team::invite_info))
        .route("/invites/{token}/accept", post(team::accept_invite))
        .route(
            "/clusters/{id}/tokens",
            get(team::tokens).post(team::create_token),
        )
        .route("/clusters/{id}/tokens/{token}", delete(team::revoke_token))
        .route(
            "/clusters/{id}/oidc/bindings",
            get(oidc::list).post(oidc::add),
        )
        .route(
            "/clusters/{id}/oidc/bindings/{binding}",
            delete(oidc::remove),
        )
        .route(
            "/services/{id}/domains",
            get(domains::list).post(domains::add),
        )
        .route(
            "/services/{id}/domains/{name}",
            patch(domains::update).delete(domains::remove),
        )
        .route(
            "/services/{id}/domains/{name}/verify",
            post(domains::verify),
        )
        .route(
            "/services/{id}/domains/{name}/certificate",
            put(domains::upload_certificate),
        )
        .route("/services/{id}/env", get(env::list))
        .route(
            "/services/{id}/webhook",
            get(hooks::show).post(hooks::enable).delete(hooks::disable),
        )
        .route("/services/{id}/env/import", post(env::import))
        .route("/services/{id}/env/{key}", put(env::set).delete(env::unset))
        .route("/services/{id}/logs", get(logs::of_service))
        .route("/services/{id}/metrics", get(metrics::of_service))
        .route("/deployments/{id}/logs", get(logs::of_deployment))
        .route("/services/{id}/rollback", post(deployments::rollback))
        .route("/services/{id}/{action}", post(deployments::action))
        .route("/deployments/{id}", get(deployments::show))
        .route("/deployments/{id}/cancel", post(deployments::cancel))
}
