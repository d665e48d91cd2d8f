//! REST API integration tests against the real server on port 0 (SQLite in a temp dir, real HTTP
//! through reqwest). One binary; modules by area.

#[allow(dead_code)]
mod support;

mod auth;
mod clusters;
mod domain_rpc;
mod domains;
mod guards;
mod headers;
mod idempotency;
mod instances;
mod invite_mail;
mod matrix;
mod notifications;
mod oidc;
mod openapi;
mod pagination;
mod revocation;
mod rpc_matrix;
mod service_pages;
mod service_settings;
mod services;
mod services_live;
mod sessions;
mod shutdown;
mod team;
mod throttle;
mod two_factor;
mod webhooks;
