//! The whole permission matrix over HTTP: every `/api/v1` route (and WebSocket upgrade), called
//! once by each role (Owner, Admin, Member, Guest), by an API token of each role, by a
//! non-member and by nobody; each answer is allowed, 403, 404 or 401 as the matrix says. Every
//! allowed mutation that succeeds writes exactly one audit event naming the actor (and the
//! token) and the target; a refused one writes none. The test fails when `rest/mod.rs` has a
//! route this table does not mention.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Fetch, PASSWORD, websocket_upgrade};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Owner,
    Admin,
    Member,
    Guest,
}

pub(crate) const ALL: &[Who] = &[Who::Owner, Who::Admin, Who::Member, Who::Guest];
pub(crate) const STAFF: &[Who] = &[Who::Owner, Who::Admin, Who::Member];
pub(crate) const ADMINS: &[Who] = &[Who::Owner, Who::Admin];
pub(crate) const OWNERS: &[Who] = &[Who::Owner];

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone, signed in or not (sign-up, log-in, invitation links).
    Public,
    /// Any signed-in person, about themselves; API tokens only where `tokens` says so.
    Account { tokens: bool },
    /// Members of the object's cluster with one of these roles.
    Roles(&'static [Who]),
}

/// `(method, route as written in rest/mod.rs, rule)`.
const MATRIX: &[(&str, &str, Rule)] = &[
    ("GET", "/openapi.json", Rule::Public),
    ("POST", "/auth/signup", Rule::Public),
    ("POST", "/auth/login", Rule::Public),
    // A CI job's identity token in, an API token out: no session (its own proof).
    ("POST", "/auth/oidc/exchange", Rule::Public),
    ("POST", "/auth/logout", Rule::Account { tokens: false }),
    ("POST", "/auth/password", Rule::Account { tokens: false }),
    ("GET", "/me", Rule::Account { tokens: true }),
    // The second step of a sign-in: anyone holding a challenge (two_factor.rs signs in with it).
    ("POST", "/auth/login/2fa", Rule::Public),
    ("GET", "/account/2fa", Rule::Account { tokens: false }),
    ("DELETE", "/account/2fa", Rule::Account { tokens: false }),
    (
        "POST",
        "/account/2fa/setup",
        Rule::Account { tokens: false },
    ),
    (
        "POST",
        "/account/2fa/confirm",
        Rule::Account { tokens: false },
    ),
    (
        "POST",
        "/account/2fa/step-up",
        Rule::Account { tokens: false },
    ),
    (
        "POST",
        "/account/2fa/backup-codes",
        Rule::Account { tokens: false },
    ),
    // A person's own security log and sessions: never through an API token.
    ("GET", "/account/events", Rule::Account { tokens: false }),
    ("GET", "/account/sessions", Rule::Account { tokens: false }),
    (
        "DELETE",
        "/account/sessions/{id}",
        Rule::Account { tokens: false },
    ),
    (
        "POST",
        "/account/sessions/revoke-others",
        Rule::Account { tokens: false },
    ),
    ("GET", "/clusters", Rule::Account { tokens: true }),
    ("POST", "/clusters", Rule::Account { tokens: false }),
    ("GET", "/clusters/{id}", Rule::Roles(ALL)),
    ("PATCH", "/clusters/{id}", Rule::Roles(ADMINS)),
    // With `required: false`: the Owner's call succeeds without two-factor of their own.
    ("PUT", "/clusters/{id}/require-2fa", Rule::Roles(OWNERS)),
    // Called with a wrong `confirm`, so the Owner's call fails (400) and the world survives;
    // clusters.rs deletes one for real.
    ("DELETE", "/clusters/{id}", Rule::Roles(OWNERS)),
    ("GET", "/clusters/{id}/instances", Rule::Roles(ALL)),
    ("POST", "/clusters/{id}/instances", Rule::Roles(ADMINS)),
    ("WS", "/clusters/{id}/instances/live", Rule::Roles(ALL)),
    ("DELETE", "/instances/{id}", Rule::Roles(ADMINS)),
    ("PATCH", "/instances/{id}", Rule::Roles(ADMINS)),
    // The instance is offline here, so allowed calls end 409 (and record nothing); the
    // gateway tests (tools.rs, traversal.rs) run them against a real dployrd.
    ("WS", "/instances/{id}/console", Rule::Roles(ADMINS)),
    // Stored metrics: read by every member, Guests included (a fresh instance has none: 200).
    ("GET", "/instances/{id}/metrics", Rule::Roles(ALL)),
    ("WS", "/services/{id}/console", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/files", Rule::Roles(ADMINS)),
    ("DELETE", "/services/{id}/files", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/files/content", Rule::Roles(ADMINS)),
    ("PUT", "/services/{id}/files/content", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/files/archive", Rule::Roles(ADMINS)),
    ("POST", "/services/{id}/files/mkdir", Rule::Roles(ADMINS)),
    ("POST", "/services/{id}/files/rename", Rule::Roles(ADMINS)),
    ("GET", "/clusters/{id}/services", Rule::Roles(ALL)),
    ("POST", "/clusters/{id}/services", Rule::Roles(ADMINS)),
    ("WS", "/clusters/{id}/services/live", Rule::Roles(ALL)),
    ("WS", "/services/{id}/live", Rule::Roles(ALL)),
    ("GET", "/services/{id}", Rule::Roles(ALL)),
    ("PATCH", "/services/{id}", Rule::Roles(ADMINS)),
    ("DELETE", "/services/{id}", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/deployments", Rule::Roles(ALL)),
    ("POST", "/services/{id}/deployments", Rule::Roles(STAFF)),
    ("GET", "/clusters/{id}/events", Rule::Roles(ALL)),
    // Notification channels: Members list them (never a secret), Admins manage them. Each call
    // on `{channel}` gets a fresh webhook channel pointing at a closed port, so a test answers
    // 200 with the failed attempt (and records `notification.test`).
    ("GET", "/clusters/{id}/notifications", Rule::Roles(STAFF)),
    ("POST", "/clusters/{id}/notifications", Rule::Roles(ADMINS)),
    (
        "PATCH",
        "/clusters/{id}/notifications/{channel}",
        Rule::Roles(ADMINS),
    ),
    (
        "DELETE",
        "/clusters/{id}/notifications/{channel}",
        Rule::Roles(ADMINS),
    ),
    (
        "POST",
        "/clusters/{id}/notifications/{channel}/test",
        Rule::Roles(ADMINS),
    ),
    (
        "GET",
        "/clusters/{id}/notifications/{channel}/deliveries",
        Rule::Roles(STAFF),
    ),
    ("GET", "/clusters/{id}/members", Rule::Roles(STAFF)),
    (
        "PATCH",
        "/clusters/{id}/members/{user}",
        Rule::Roles(ADMINS),
    ),
    (
        "DELETE",
        "/clusters/{id}/members/{user}",
        Rule::Roles(ADMINS),
    ),
    ("GET", "/clusters/{id}/invites", Rule::Roles(ADMINS)),
    ("POST", "/clusters/{id}/invites", Rule::Roles(ADMINS)),
    (
        "DELETE",
        "/clusters/{id}/invites/{invite}",
        Rule::Roles(ADMINS),
    ),
    ("GET", "/invites/{token}", Rule::Public),
    ("POST", "/invites/{token}/accept", Rule::Public),
    ("GET", "/clusters/{id}/tokens", Rule::Roles(ADMINS)),
    ("POST", "/clusters/{id}/tokens", Rule::Roles(ADMINS)),
    (
        "DELETE",
        "/clusters/{id}/tokens/{token}",
        Rule::Roles(ADMINS),
    ),
    // CI OIDC federation: Owners and Admins choose which repositories may act.
    ("GET", "/clusters/{id}/oidc/bindings", Rule::Roles(ADMINS)),
    ("POST", "/clusters/{id}/oidc/bindings", Rule::Roles(ADMINS)),
    (
        "DELETE",
        "/clusters/{id}/oidc/bindings/{binding}",
        Rule::Roles(ADMINS),
    ),
    ("GET", "/services/{id}/env", Rule::Roles(STAFF)),
    ("POST", "/services/{id}/env/import", Rule::Roles(STAFF)),
    ("PUT", "/services/{id}/env/{key}", Rule::Roles(STAFF)),
    ("DELETE", "/services/{id}/env/{key}", Rule::Roles(STAFF)),
    ("GET", "/services/{id}/webhook", Rule::Roles(ADMINS)),
    ("POST", "/services/{id}/webhook", Rule::Roles(ADMINS)),
    // Each call finds a hook to switch off (`prepare` enables one first).
    ("DELETE", "/services/{id}/webhook", Rule::Roles(ADMINS)),
    ("GET", "/services/{id}/domains", Rule::Roles(ALL)),
    // Each call on `{name}` gets a fresh pending domain (`prepare`); Verify finds no TXT record
    // at the world's DNS server, stays pending and records the check.
    ("POST", "/services/{id}/domains", Rule::Roles(ADMINS)),
    (
        "PATCH",
        "/services/{id}/domains/{name}",
        Rule::Roles(ADMINS),
    ),
    (
        "DELETE",
        "/services/{id}/domains/{name}",
        Rule::Roles(ADMINS),
    ),
    (
        "POST",
        "/services/{id}/domains/{name}/verify",
        Rule::Roles(ADMINS),
    ),
    // An invalid certificate: allowed callers get 400 and nothing is recorded.
    (
        "PUT",
        "/services/{id}/domains/{name}/certificate",
        Rule::Roles(ADMINS),
    ),
    ("GET", "/services/{id}/metrics", Rule::Roles(ALL)),
    ("GET", "/services/{id}/logs", Rule::Roles(STAFF)),
    ("GET", "/deployments/{id}/logs", Rule::Roles(STAFF)),
    ("POST", "/services/{id}/rollback", Rule::Roles(STAFF)),
    ("POST", "/services/{id}/{action}", Rule::Roles(STAFF)),
    ("GET", "/deployments/{id}", Rule::Roles(ALL)),
    ("POST", "/deployments/{id}/cancel", Rule::Roles(STAFF)),
];

/// The `(method, path)` pairs `rest/mod.rs` registers, read from its source.
fn registered_routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../../src/rest/mod.rs");
    let mut out = BTreeSet::new();
    for chunk in src.split(".route(").skip(1) {
        // `Routes::route` itself forwards `.route(path, methods)`: not a route.
        if !chunk.trim_start().starts_with('"') {
            continue;
        }
        let path = chunk.split('"').nth(1).unwrap().to_string();
        let handlers = chunk.split("\n        .").next().unwrap();
        for (method, needle) in [
            ("GET", "get("),
            ("POST", "post("),
            ("PUT", "put("),
            ("PATCH", "patch("),
            ("DELETE", "delete("),
        ] {
            if handlers.contains(needle) {
                out.insert((method.to_string(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_matrix_mentions_every_route_and_nothing_else() {
    let registered = registered_routes();
    assert!(registered.len() > 30, "parsed {registered:?}");
    let mentioned: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| {
            (
                if *m == "WS" { "GET" } else { m }.to_string(),
                p.to_string(),
            )
        })
        .collect();
    let missing: Vec<_> = registered.difference(&mentioned).collect();
    assert!(
        missing.is_empty(),
        "routes the matrix does not mention: {missing:?}"
    );
    let stale: Vec<_> = mentioned.difference(&registered).collect();
    assert!(stale.is_empty(), "matrix rows with no route: {stale:?}");
}

mod audit;
mod callers;
mod world;
pub(crate) use callers::callers;
pub(crate) use world::{Cred, World, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_and_token_gets_exactly_what_the_matrix_says() {
    let w = world().await;
    let callers = callers(&w).await;
    let mut calls = 0;
    // Account routes: any session; API tokens read `me` and their cluster, and nothing more.
    for c in &callers {
        for (method, route, rule) in MATRIX {
            let Rule::Account { tokens } = rule else {
                continue;
            };
            let code_route = route.starts_with("/account/2fa") && *method != "GET";
            let ends_sessions = matches!(
                *route,
                "/auth/logout"
                    | "/auth/password"
                    | "/account/sessions/{id}"
                    | "/account/sessions/revoke-others"
            );
            if ends_sessions || code_route {
                // Signing out or changing a password would end the caller's session (or the
                // world's other sessions; sessions.rs ends sessions for real); the two-factor
                // steps need a code (two_factor.rs runs them with one).
                if !matches!(c.cred, Cred::Token(_)) {
                    continue;
                }
            }
            let body = match *route {
                "/clusters" => json!({ "name": w.unique("Side ") }),
                "/auth/password" => {
                    json!({ "current_password": PASSWORD, "new_password": "another long password" })
                }
                "/account/2fa/confirm" | "/account/2fa/step-up" => json!({ "code": "000000" }),
                _ => Value::Null,
            };
            let mut r = w.req(&c.cred, method.parse().unwrap(), route);
            if !body.is_null() {
                r = r.json(&body);
            }
            let status = r.sent().await.status().as_u16();
            let what = format!("{} {method} {route}", c.label);
            match &c.cred {
                Cred::Nobody => assert_eq!(status, 401, "{what}"),
                Cred::Token(_) if !tokens => assert_eq!(status, 403, "{what}"),
                _ => assert!((200..300).contains(&status), "{what}: {status}"),
            }
            calls += 1;
        }
    }
    for (method, route, rule) in MATRIX {
        let Rule::Roles(allowed) = rule else { continue };
        for c in &callers {
            let (path, body) = w.prepare(method, route).await;
            let before = w.event_count().await;
            let status = if *method == "WS" {
                websocket_upgrade(w.req(&c.cred, Method::GET, &path))
                    .sent()
                    .await
                    .status()
                    .as_u16()
            } else {
                let mut r = w.req(&c.cred, method.parse().unwrap(), &path);
                if !body.is_null() {
                    r = r.json(&body);
                }
                r.sent().await.status().as_u16()
            };
            calls += 1;
            let what = format!("{} {method} {path}", c.label);
            match (&c.cred, c.role) {
                (Cred::Nobody, _) => assert_eq!(status, 401, "{what}"),
                (_, None) => assert_eq!(status, 404, "{what}"),
                (_, Some(role)) if allowed.contains(&role) => {
                    assert!(![401, 403, 404].contains(&status), "{what}: {status}")
                }
                (_, Some(_)) => assert_eq!(status, 403, "{what}"),
            }
            let after = w.event_count().await;
            let mutating = !matches!(*method, "GET" | "WS");
            if mutating && (200..300).contains(&status) {
                assert_eq!(after - before, 1, "{what}: one event");
                let (actor, token, target, action) = w.newest_event().await;
                assert_eq!(actor, c.user_id, "{what}: {action} names the actor");
                assert_eq!(token, c.token_id, "{what}: {action} names the token");
                assert!(target.is_some(), "{what}: {action} names a target");
            } else if mutating {
                assert_eq!(
                    after, before,
                    "{what}: a refused or failed call records nothing"
                );
            }
        }
    }
    assert!(calls > 300, "{calls} calls");
    w.app.stop().await;
}
