//! Base's domain layer, free of Leptos and HTTP so the dashboard's server functions, the REST API
//! and the WebSocket relays all call the same code. Read in this order:
//!
//! - [`base`]: the cheap-to-clone handle ([`Base`]) every entry point holds, its config and the
//!   [`Limits`] of the deploy path.
//! - [`error`]: [`DomainError`], the one error vocabulary callers map to HTTP.
//! - [`rbac`]: the role x action permission table and the [`rbac::May`] proof it hands out.
//! - [`auth`]: passwords, session tokens, the login rate limiter, and sign-up/log-in/log-out.
//! - [`two_factor`]: TOTP enrolment, backup codes, the second step of signing in, step-up for
//!   sensitive actions, and a cluster's requirement of two-factor.
//! - [`clusters`]: create, rename, list, overview.
//! - [`members`], [`invites`], [`tokens`]: who belongs to a cluster with which role, invitation
//!   links, and API tokens (Bearer actors).
//! - [`instances`]: servers running dployrd: add (join token), list with status, remove, enroll.
//! - [`services`]: apps on instances: create, list, change, delete ([`service_spec`] checks
//!   their settings).
//! - [`deployments`]: create (one path for people, API tokens and webhooks), cancel, list; the
//!   agent's progress reports, every step through one `apply`.
//! - [`domains`]: a service's custom domains: unique across Base, routed once a TXT record
//!   proves ownership (checked on demand and in the background), certificates shown.
//! - [`idempotency`]: `Idempotency-Key` on deploy requests: a retry gets the first answer back.
//! - [`dispatch`]: delivering orders to agents, reconciling after reconnects, the sweeper that
//!   times out deployments that can no longer finish.
//! - [`logs`]: service output from agents: stored (bounded), numbered, relayed to followers
//!   (`log_owners`: which services a stream may write for).
//! - [`lifecycle`]: roll back, restart, stop, start a live service.
//! - [`metrics`]: the fleet's metrics from agents' frames: stored, rolled up to 1 min and 1 h,
//!   kept 24 h / 7 days / 90 days, read by any member.
//! - [`notify`]: alerts: a cluster's channels (signed webhook, Slack, Discord, email), the
//!   outbox written with the events that cause alerts, its delivery worker, and the incidents
//!   (offline, crash loops, thresholds) that alert once each.
//! - [`oidc`]: CI OIDC federation: a cluster's trusted issuers and repositories, and the
//!   exchange of a CI job's identity token for an API token lasting at most an hour.
//! - [`scrape`]: what a Prometheus scrape shows of the token's cluster (Owner/Admin tokens).
//! - [`redelivery`]: orders an agent connected here has not accepted long after, sent again.
//! - [`removals`]: deleted services removed from their instance, however long it was away.
//! - [`env`]: a service's variables and write-only secrets (`.env` import too).
//! - [`revocation`]: open streams (log follows, live views, consoles) re-authorize on every
//!   change that can take access away and on a timer, and end when it is gone.
//! - [`tools`]: the console and file explorer, relayed to the agent over its connection.
//! - [`mail`]: invitation emails over SMTP, when configured.
//! - [`gateway`]: where agent connections arrive; the registry of live ones.
//! - [`webhooks`]: push-to-deploy hooks for GitHub, GitLab and any CI (secret sealed, deliveries
//!   verified and deduplicated).
//! - [`events`]: the append-only audit log.
//! - [`secrets`]: the master key, and sealing secrets at rest.
//! - [`store`]: the SQL, one module per table, over SQLite or PostgreSQL.
//! - [`validate`], [`ids`], [`clock`], [`changes`]: small helpers at the edges; `periodic`: how
//!   background jobs repeat.

pub mod auth;
pub mod base;
pub mod changes;
pub mod clock;
pub mod clusters;
pub mod deployments;
pub mod dispatch;
pub mod domains;
pub mod env;
pub mod error;
pub mod events;
pub mod gateway;
pub mod idempotency;
pub mod ids;
pub mod instances;
pub mod invites;
pub mod lifecycle;
mod log_owners;
pub mod logs;
pub mod mail;
pub mod members;
pub mod metrics;
pub mod notify;
pub mod oidc;
mod periodic;
pub mod rbac;
pub mod redelivery;
pub mod removals;
pub mod replicas;
pub mod revocation;
pub mod scrape;
pub mod secrets;
pub mod service_spec;
pub mod services;
pub mod store;
pub mod tokens;
pub mod tools;
pub mod two_factor;
pub mod validate;
pub mod webhooks;

pub use base::{Base, BaseConfig, GatewayInfo, Limits};
pub use error::DomainError;
pub use store::Store;

/// Who is asking and from where: recorded on sessions and audit events.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A signed-in user, as established from a session token or an API token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: proto::api::User,
    /// SHA-256 of the session token that authenticated this request (empty for API tokens).
    pub session_hash: String,
    pub client: ClientInfo,
    /// Set when an API token authenticated the request: it acts for `user` in one cluster only,
    /// with at most its own role.
    pub token: Option<TokenGrant>,
}

/// What an API token may do: where, and with which role at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub id: String,
    pub cluster_id: String,
    pub role: proto::api::Role,
}

impl Actor {
    /// The API token acting, if any (for audit events).
    pub fn token_id(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.id.as_str())
    }

    /// Refuses API tokens: account actions (password, new clusters, sign-out of a session)
    /// need the person's own session.
    pub fn require_session(&self) -> Result<(), DomainError> {
        match self.token {
            Some(_) => Err(DomainError::Forbidden),
            None => Ok(()),
        }
    }
}
