//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API, generated from the handlers'
//! `#[utoipa::path]` attributes and the `proto::api` types they (de)serialise, so the document
//! cannot describe a body the server does not send. `server/tests/api/openapi.rs` checks that
//! every route of [`super::router`] is in it, and `.ci/schemathesis` checks the server against it.
//!
//! Error responses are added here rather than on every handler: every error is an
//! [`ErrorBody`](proto::api::ErrorBody), and which statuses an operation can answer follows from
//! what it takes (a body: 413/415/422; a change: 409). Operations tagged `websocket` or
//! `streaming` are documented but left out of the schemathesis run (see `.ci/schemathesis`).

use std::sync::OnceLock;

use axum::Json;
use axum::response::IntoResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{
    account, auth, clusters, console, deployments, domains, env, events, files, hooks, instances,
    logs, metrics, notifications, oidc, services, team, two_factor,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dployr API",
        description = "Base's REST API: clusters, instances, services, deployments, logs, files, \
                       team and audit log. Every error is `{\"error\":{\"code\",\"message\",\"field?\"}}`.",
        license(name = "AGPL-3.0-only")
    ),
    servers((url = "/api/v1")),
    paths(
        document,
        auth::signup, auth::login, auth::logout, auth::change_password, auth::me,
        two_factor::login_code, two_factor::status, two_factor::setup, two_factor::confirm,
        two_factor::step_up, two_factor::backup_codes, two_factor::disable, two_factor::require,
        account::events, account::sessions, account::revoke, account::revoke_others,
        clusters::list, clusters::create, clusters::show, clusters::update, clusters::delete,
        instances::list, instances::create, instances::live, instances::delete, instances::update,
        console::of_instance, console::of_service,
        files::list, files::delete, files::content, files::upload, files::archive, files::mkdir,
        files::rename,
        services::list, services::create, services::live_list, services::live_one, services::show,
        services::update, services::delete,
        deployments::list, deployments::create, deployments::show, deployments::cancel,
        deployments::rollback, deployments::action,
        events::list,
        team::members, team::change_role, team::remove_member, team::invites, team::invite,
        team::revoke_invite, team::invite_info, team::accept_invite, team::tokens,
        team::create_token, team::revoke_token,
        env::list, env::import, env::set, env::unset,
        hooks::show, hooks::enable, hooks::disable,
        domains::list, domains::add, domains::verify, domains::update, domains::remove,
        domains::upload_certificate,
        logs::of_service, logs::of_deployment,
        metrics::of_service, metrics::of_instance,
        notifications::list, notifications::create, notifications::update, notifications::delete,
        notifications::test, notifications::deliveries,
        oidc::list, oidc::add, oidc::remove, oidc::exchange,
    ),
    components(schemas(proto::api::ErrorBody, deployments::LifecycleAction)),
    modifiers(&Errors),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

/// The document, built once (it only depends on the code).
pub fn document_json() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(ApiDoc::openapi()).expect("the document serialises"))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of `/api/v1`", content_type = "application/json")))]
pub async fn document() -> impl IntoResponse {
    Json(document_json())
}

/// Tags of operations schemathesis leaves out: WebSockets (101 after an upgrade it does not do)
/// and responses that may stay open (`follow=true`).
pub const WEBSOCKET: &str = "websocket";
pub const STREAMING: &str = "streaming";

/// Adds the security schemes, each operation's error responses and unique operation ids.
struct Errors;

impl Modify for Errors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("dp_… (an API token)")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                control::auth::cookie::NAME,
                "The dashboard's session cookie (set by log-in and sign-up); named \
                 `__Host-dployr_session` when Base is served over HTTPS",
            ))),
        );
        let error = ResponseBuilder::new()
            .description("An error: `{\"error\":{\"code\",\"message\",\"field?\"}}`")
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build();
        components.responses.insert("Error".into(), RefOr::T(error));
        for item in doc.paths.paths.values_mut() {
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ] {
                if let Some(op) = op {
                    add_errors(method, op);
                    unique_id(op);
                }
            }
        }
    }
}

/// `clusters.list`, not `list`: handlers of different modules share names, operation ids must not.
fn unique_id(op: &mut Operation) {
    if let (Some(id), Some(tag)) = (&op.operation_id, op.tags.as_ref().and_then(|t| t.first())) {
        op.operation_id = Some(format!("{tag}.{id}"));
    }
}

fn add_errors(method: &str, op: &mut Operation) {
    if op
        .tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "meta"))
    {
        return;
    }
    let mut statuses = vec!["400", "401", "403", "404", "500"];
    if op.request_body.is_some() {
        statuses.extend(["413", "415", "422"]);
    }
    // A change can collide with the current state; anything the agent does answers 409 while
    // the service's instance is offline.
    let on_agent = op
        .tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "files" || t == "console"));
    if method != "get" || on_agent {
        statuses.push("409");
    }
    for status in statuses {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Error")));
    }
}
