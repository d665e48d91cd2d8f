//! The permission matrix for the dashboard's server functions (`/rpc/…`): each one called by
//! every role, a non-member and nobody, answering as the matrix says; API tokens get nothing
//! (server functions take the session cookie only). The test fails when a server function is
//! registered that this table does not mention. Errors come back as JSON `AppError`s, so the
//! verdict is read from the body.

use std::collections::BTreeSet;

use reqwest::Method;

use crate::matrix::{ADMINS, ALL, Cred, OWNERS, STAFF, World, callers, world};
use crate::support::Fetch;

/// Who may call a server function.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Needs no session, or acts only on the caller's own account: covered by the auth tests.
    NotCluster,
    Roles(&'static [crate::matrix::Who]),
}

const RPC: &[(&str, Rule)] = &[
    ("get_signup_state", Rule::NotCluster),
    ("landing_path", Rule::NotCluster),
    ("get_me", Rule::NotCluster),
    ("permission_matrix", Rule::NotCluster),
    ("signup", Rule::NotCluster),
    ("login", Rule::NotCluster),
    ("logout", Rule::NotCluster),
    ("change_password", Rule::NotCluster),
    ("create_cluster", Rule::NotCluster),
    ("account_events", Rule::NotCluster),
    ("get_two_factor", Rule::NotCluster),
    ("start_two_factor", Rule::NotCluster),
    ("confirm_two_factor", Rule::NotCluster),
    ("disable_two_factor", Rule::NotCluster),
    ("regenerate_backup_codes", Rule::NotCluster),
    ("step_up", Rule::NotCluster),
    ("login_code", Rule::NotCluster),
    ("list_sessions", Rule::NotCluster),
    ("revoke_session", Rule::NotCluster),
    ("revoke_other_sessions", Rule::NotCluster),
    ("get_invite", Rule::NotCluster),
    ("join_by_invite", Rule::NotCluster),
    ("signup_by_invite", Rule::NotCluster),
    ("rename_cluster", Rule::Roles(ADMINS)),
    // With a wrong `confirm` (the Owner's call fails, the world survives); the REST test in
    // clusters.rs deletes one for real, through the same `Base::delete_cluster`.
    ("delete_cluster", Rule::Roles(OWNERS)),
    // Owners only; `required=true` is refused (409) while the Owner has no two-factor, so the
    // matrix changes nothing (two_factor.rs turns it on for real).
    ("set_cluster_two_factor", Rule::Roles(OWNERS)),
    ("get_cluster_two_factor", Rule::Roles(ALL)),
    ("list_oidc_bindings", Rule::Roles(ADMINS)),
    ("add_oidc_binding", Rule::Roles(ADMINS)),
    ("remove_oidc_binding", Rule::Roles(ADMINS)),
    ("get_cluster_overview", Rule::Roles(ALL)),
    ("list_instances", Rule::Roles(ALL)),
    ("create_instance", Rule::Roles(ADMINS)),
    ("set_instance_console", Rule::Roles(ADMINS)),
    ("delete_instance", Rule::Roles(ADMINS)),
    ("list_services", Rule::Roles(ALL)),
    ("get_service_detail", Rule::Roles(ALL)),
    ("create_service", Rule::Roles(ADMINS)),
    ("update_service", Rule::Roles(ADMINS)),
    ("delete_service", Rule::Roles(ADMINS)),
    ("deploy_service", Rule::Roles(STAFF)),
    ("cancel_deployment", Rule::Roles(STAFF)),
    ("rollback_service", Rule::Roles(STAFF)),
    ("service_action", Rule::Roles(STAFF)),
    ("list_env", Rule::Roles(STAFF)),
    ("set_env_var", Rule::Roles(STAFF)),
    ("unset_env_var", Rule::Roles(STAFF)),
    ("get_domains", Rule::Roles(ALL)),
    ("add_domain", Rule::Roles(ADMINS)),
    ("verify_domain", Rule::Roles(ADMINS)),
    ("remove_domain", Rule::Roles(ADMINS)),
    ("set_domain_hsts", Rule::Roles(ADMINS)),
    // A chain that is not PEM: refused as invalid once past the role check.
    ("upload_domain_certificate", Rule::Roles(ADMINS)),
    ("get_webhook", Rule::Roles(ADMINS)),
    ("enable_webhook", Rule::Roles(ADMINS)),
    ("disable_webhook", Rule::Roles(ADMINS)),
    ("list_members", Rule::Roles(STAFF)),
    ("change_member_role", Rule::Roles(ADMINS)),
    ("remove_member", Rule::Roles(ADMINS)),
    ("create_invite", Rule::Roles(ADMINS)),
    ("list_invites", Rule::Roles(ADMINS)),
    ("revoke_invite", Rule::Roles(ADMINS)),
    ("list_tokens", Rule::Roles(ADMINS)),
    ("create_token", Rule::Roles(ADMINS)),
    ("revoke_token", Rule::Roles(ADMINS)),
    ("list_events", Rule::Roles(ALL)),
    // The metrics charts: every member reads, Guests included, as the REST routes.
    ("get_service_metrics", Rule::Roles(ALL)),
    ("get_instance_metrics", Rule::Roles(ALL)),
    ("get_headroom", Rule::Roles(ALL)),
    // Notifications: Members read channels and deliveries; Owners and Admins change and test.
    ("list_channels", Rule::Roles(STAFF)),
    ("channel_deliveries", Rule::Roles(STAFF)),
    ("create_channel", Rule::Roles(ADMINS)),
    ("delete_channel", Rule::Roles(ADMINS)),
    // To a webhook nobody listens to: the attempt fails after the role check.
    ("test_channel", Rule::Roles(ADMINS)),
];

/// `/rpc/list_env1234…` → `list_env` (the macro appends a hash of the source location).
fn name_of(path: &str) -> String {
    path.trim_start_matches("/rpc/")
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_string()
}

pub(crate) fn registered() -> BTreeSet<(String, String)> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| (name_of(path), path.to_string()))
        .collect()
}

#[test]
fn the_rpc_matrix_mentions_every_server_function() {
    let names: BTreeSet<String> = registered().into_iter().map(|(n, _)| n).collect();
    assert!(names.len() > 30, "found {names:?}");
    let listed: BTreeSet<String> = RPC.iter().map(|(n, _)| n.to_string()).collect();
    let missing: Vec<_> = names.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "server functions the matrix does not mention: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&names).collect();
    assert!(
        stale.is_empty(),
        "matrix rows with no server function: {stale:?}"
    );
}

/// The form body for one call of `name`, creating what it destroys.
async fn args(w: &World, name: &str) -> Vec<(String, String)> {
    let c = w.cluster.clone();
    let s = w.service.clone();
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    let fields = |w: &World, name: String| {
        vec![
            pair("f[name]", &name),
            pair("f[instance_id]", &w.instance),
            pair("f[source]", "git"),
            pair("f[git_url]", "https://example.com/app.git"),
            pair("f[git_branch]", "main"),
            pair("f[image]", ""),
            pair("f[runtime]", ""),
            pair("f[build_command]", ""),
            pair("f[start_command]", ""),
            pair("f[port]", ""),
            pair("f[env]", ""),
            pair("f[health]", "none"),
            pair("f[health_path]", ""),
            pair("f[domains]", ""),
        ]
    };
    match name {
        "rename_cluster" => vec![pair("cluster_id", &c), pair("name", &w.unique("Named "))],
        "delete_cluster" => vec![pair("cluster_id", &c), pair("confirm", "not-its-name")],
        "set_cluster_two_factor" => vec![pair("cluster_id", &c), pair("required", "true")],
        "create_instance" => vec![pair("cluster_id", &c), pair("name", &w.unique("rpc-"))],
        "set_instance_console" => vec![pair("instance_id", &w.instance), pair("enabled", "true")],
        "delete_instance" => {
            let i = w
                .ana(
                    Method::POST,
                    &format!("/clusters/{c}/instances"),
                    serde_json::json!({ "name": w.unique("rpc-gone-") }),
                )
                .await;
            vec![pair("instance_id", i["instance"]["id"].as_str().unwrap())]
        }
        "create_service" => {
            let mut f = fields(w, w.unique("rpc-svc-"));
            f.push(pair("cluster_id", &c));
            f
        }
        "update_service" => {
            let detail = w
                .ana(
                    Method::GET,
                    &format!("/services/{s}"),
                    serde_json::Value::Null,
                )
                .await;
            let mut f = fields(w, detail["name"].as_str().unwrap().to_string());
            f.retain(|(k, _)| k != "f[build_command]");
            f.push(pair("f[build_command]", &w.unique("make ")));
            f.push(pair("service_id", &s));
            f
        }
        "delete_service" => vec![pair("service_id", &w.fresh_service().await)],
        "deploy_service" => vec![pair("service_id", &s), pair("git_ref", "")],
        "cancel_deployment" => vec![pair("deployment_id", &w.deployment)],
        "rollback_service" => vec![pair("service_id", &s), pair("deployment_id", &w.deployment)],
        "service_action" => vec![pair("service_id", &s), pair("action", "restart")],
        "set_env_var" => vec![
            pair("service_id", &s),
            pair("key", &w.unique("RPC_")),
            pair("value", "v"),
            pair("secret", "on"),
        ],
        "unset_env_var" => {
            let key = w.unique("RPC_GONE_");
            w.ana(
                Method::PUT,
                &format!("/services/{s}/env/{key}"),
                serde_json::json!({ "value": "x" }),
            )
            .await;
            vec![pair("service_id", &s), pair("key", &key)]
        }
        "change_member_role" | "remove_member" => {
            let (_, user) = w.invited("guest").await;
            let mut a = vec![pair("cluster_id", &c), pair("user_id", &user)];
            if name == "change_member_role" {
                a.push(pair("role", "member"));
            }
            a
        }
        "create_invite" => vec![
            pair("cluster_id", &c),
            pair("email", &format!("{}@example.com", w.unique("rpc"))),
            pair("role", "guest"),
        ],
        "revoke_invite" => {
            let inv = w
                .ana(
                    Method::POST,
                    &format!("/clusters/{c}/invites"),
                    serde_json::json!({ "email": format!("{}@example.com", w.unique("rv")), "role": "guest" }),
                )
                .await;
            vec![
                pair("cluster_id", &c),
                pair("invite_id", inv["invite"]["id"].as_str().unwrap()),
            ]
        }
        "create_token" => vec![
            pair("cluster_id", &c),
            pair("name", &w.unique("rpc ")),
            pair("role", "guest"),
            pair("expires_in_days", "30"),
        ],
        "revoke_token" => vec![
            pair("cluster_id", &c),
            pair("token_id", &w.members_token().await),
        ],
        "list_events" => vec![
            pair("cluster_id", &c),
            pair("actor_id", ""),
            pair("action", ""),
            pair("target", ""),
            pair("cursor", ""),
        ],
        "enable_webhook" => vec![pair("service_id", &s), pair("branch", "")],
        "add_domain" => vec![
            pair("service_id", &s),
            pair("name", &format!("{}.example.com", w.unique("rpc-"))),
        ],
        "verify_domain" | "remove_domain" | "set_domain_hsts" | "upload_domain_certificate" => {
            let domain = format!("{}.example.com", w.unique("rpc-dom-"));
            w.ana(
                Method::POST,
                &format!("/services/{s}/domains"),
                serde_json::json!({ "name": domain }),
            )
            .await;
            let mut a = vec![pair("service_id", &s), pair("name", &domain)];
            match name {
                "set_domain_hsts" => a.push(pair("hsts", "true")),
                "upload_domain_certificate" => {
                    a.push(pair("chain_pem", "not a certificate"));
                    a.push(pair("key_pem", "not a key"));
                }
                _ => {}
            }
            a
        }
        "get_domains" => vec![pair("service_id", &s)],
        "get_service_metrics" => vec![
            pair("service_id", &s),
            pair("since", "1h"),
            pair("step", "10"),
        ],
        "get_instance_metrics" => vec![
            pair("instance_id", &w.instance),
            pair("since", "24h"),
            pair("step", "60"),
        ],
        "create_channel" => vec![
            pair("cluster_id", &c),
            pair("name", &w.unique("rpc ch ")),
            pair("kind", "webhook"),
            pair("url", "http://127.0.0.1:9/hook"),
            pair("events", "deploy.failed,instance.offline"),
        ],
        "add_oidc_binding" => vec![
            pair("cluster_id", &c),
            pair("provider", "github"),
            pair("repository", &w.unique("acme/rpc-")),
            pair("role", "guest"),
        ],
        "remove_oidc_binding" => vec![
            pair("cluster_id", &c),
            pair("binding_id", &w.fresh_binding().await),
        ],
        "delete_channel" | "test_channel" | "channel_deliveries" => vec![
            pair("cluster_id", &c),
            pair("channel_id", &w.fresh_channel().await),
        ],
        "get_service_detail" | "list_env" | "get_webhook" | "disable_webhook" => {
            vec![pair("service_id", &s)]
        }
        _ => vec![pair("cluster_id", &c)],
    }
}

/// 401, 403, 404 when the body is that `AppError`, else 200 (allowed: it got past the check,
/// whatever happened next).
fn verdict(status: u16, body: &str) -> u16 {
    let b = body.trim_start();
    if b.starts_with("{\"Unauthorized\"") {
        401
    } else if b.starts_with("\"Forbidden\"") {
        403
    } else if b.starts_with("{\"NotFound\"") {
        404
    } else if status >= 500 && !b.starts_with('{') && !b.starts_with('"') {
        status
    } else {
        200
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_function_answers_each_role_as_the_matrix_says() {
    let w = world().await;
    let callers = callers(&w).await;
    let paths = registered();
    let mut calls = 0;
    for (name, rule) in RPC {
        let Rule::Roles(allowed) = rule else { continue };
        let path = &paths
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is not registered"))
            .1;
        for c in &callers {
            let form = args(&w, name).await;
            let url = format!("{}{path}", w.app.url);
            let req = match &c.cred {
                Cred::Session(client) => client.post(&url).header("Origin", &w.app.origin),
                Cred::Token(t) => reqwest::Client::new().post(&url).bearer_auth(t),
                Cred::Nobody => reqwest::Client::new()
                    .post(&url)
                    .header("Origin", &w.app.origin),
            };
            let r = req
                .header("Accept", "application/json")
                .form(&form)
                .sent()
                .await;
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            let got = verdict(status, &body);
            let what = format!(
                "{} {name}: {status} {}",
                c.label,
                body.chars().take(200).collect::<String>()
            );
            match (&c.cred, c.role) {
                (Cred::Nobody | Cred::Token(_), _) => assert_eq!(got, 401, "{what}"),
                (_, None) => assert_eq!(got, 404, "{what}"),
                (_, Some(role)) if allowed.contains(&role) => assert_eq!(got, 200, "{what}"),
                (_, Some(_)) => assert_eq!(got, 403, "{what}"),
            }
            calls += 1;
        }
    }
    assert!(calls > 200, "{calls} calls");
    w.app.stop().await;
}
