//! `dployr login --oidc` in a GitHub Actions job against a real Base and a test issuer of its
//! own: the owner binds the repository with `dployr oidc bindings add`; the job's CLI asks the
//! issuer's token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`) for a token for Base's audience,
//! exchanges it, and its next command (`dployr services`) works with the hour-long token.
//!
//! Needs `dployr-server` and `dployrd` built beside `dployr`, like `cli.rs`.

// Shared with `cli.rs`, which uses what this test does not.
#[allow(dead_code, unused_imports)]
mod support;

use serde_json::{Value, json};
use support::{Base, dployr, login_with_local_instance};
use testkit::oidc::{Issuer, REQUEST_TOKEN, now_secs};

#[test]
fn a_github_job_logs_in_with_its_identity_token() {
    let base = Base::start_with(&[("DPLOYR_OIDC_HTTP_LOOPBACK", "true")]);
    let issuer = Issuer::start();
    let home = tempfile::tempdir().unwrap();
    let owner = home.path().join("owner").join("config.toml");
    // The owner signs in (her local instance comes online meanwhile).
    login_with_local_instance(&base, &owner);
    let add = [
        "oidc",
        "bindings",
        "add",
        "--provider",
        "github",
        "--repository",
        "acme/shop",
        "--ref",
        "refs/heads/main",
        "--role",
        "member",
        "--issuer",
        issuer.url(),
    ];
    let r = dployr(&owner, &[], &add, None);
    assert_eq!(r.code, 0, "{r:?}");
    let r = dployr(&owner, &[], &["oidc", "bindings", "list", "--json"], None);
    let listed: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(listed[0]["repository"], "acme/shop", "{listed}");
    assert_eq!(listed[0]["audience"], json!(base.url));

    // The job: GitHub's token endpoint signs the job's claims for the audience asked.
    let now = now_secs();
    issuer.set_job_claims(json!({
        "iss": issuer.url(), "repository": "acme/shop", "ref": "refs/heads/main",
        "event_name": "push", "run_id": "99", "iat": now, "exp": now + 300,
    }));
    let job = home.path().join("job").join("config.toml");
    let endpoint = issuer.token_endpoint();
    let github = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", endpoint.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ];
    let r = dployr(
        &job,
        &github,
        &["--url", &base.url, "login", "--oidc"],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("member"), "{r:?}");
    let r = dployr(&job, &[], &["services", "--json"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        serde_json::from_str::<Value>(&r.stdout).unwrap().is_array(),
        "{r:?}"
    );
    // A Member token manages no bindings.
    let r = dployr(&job, &[], &["oidc", "bindings", "list"], None);
    assert_eq!(r.code, 3, "{r:?}");

    // Outside CI there is no identity token: a clear error, exit 3.
    let r = dployr(&job, &[], &["--url", &base.url, "login", "--oidc"], None);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("no CI identity token"), "{r:?}");
}
