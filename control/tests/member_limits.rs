//! What a Member may not do although they deploy and set variables (audit findings H1 and
//! L10), on SQLite and PostgreSQL: set the variables that change what code runs, or deploy a
//! ref outside branches and tags.

mod common;

use common::{TestDb, person};
use control::store::memberships;
use control::webhooks::{HookHeaders, Provider};
use control::{Actor, Base, ClientInfo, DomainError, clock};
use proto::api::{
    CreateDeploymentRequest, CreateServiceRequest, EnableWebhookRequest, HookReply,
    ImportEnvRequest, Role, SetEnvRequest,
};

/// Ana (Owner) with a service `api` on one instance, and Bo, a Member of her cluster.
async fn owner_and_member(db: &TestDb) -> (Base, Actor, Actor, String) {
    let base = db.base(true);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let (bo, bo_id, _) = person(&base, "bo@example.com").await;
    memberships::insert(
        db.store.pool(),
        &cluster,
        &bo_id,
        Role::Member,
        clock::now_ms(),
    )
    .await
    .unwrap();
    let instance = base.create_instance(&ana, &cluster, "web-1").await.unwrap();
    let req: CreateServiceRequest = serde_json::from_value(serde_json::json!({
        "name": "api",
        "instance_id": instance.instance.id,
        "source": {"git": {"url": "file:///srv/api.git", "branch": "main"}},
    }))
    .unwrap();
    let svc = base.create_service(&ana, &cluster, req).await.unwrap();
    (base, ana, bo, svc.id)
}

fn set(value: &str, secret: bool) -> SetEnvRequest {
    SetEnvRequest {
        value: value.into(),
        secret,
    }
}

fn refused_naming(err: DomainError, name: &str) {
    match err {
        DomainError::ForbiddenBecause(m) => assert!(m.contains(name), "{m}"),
        other => panic!("expected a refusal naming {name}, got {other:?}"),
    }
}

async fn h1_member_cannot_set_loader_env_names(db: &TestDb) {
    let (base, ana, bo, svc) = owner_and_member(db).await;
    let payload = "--import=data:text/javascript;base64,aWQ=";
    for (name, secret) in [
        ("NODE_OPTIONS", false),
        ("LD_PRELOAD", true),
        ("BASH_ENV", false),
        ("PERL5OPT", false),
        ("PYTHONWARNINGS", true),
        ("GIT_SSH_COMMAND", false),
        ("PATH", false),
        ("npm_config_script_shell", false),
    ] {
        let err = base
            .set_env(&bo, &svc, name, set(payload, secret))
            .await
            .unwrap_err();
        refused_naming(err, name);
    }
    let dotenv = ImportEnvRequest {
        dotenv: "NODE_ENV=production\nBASH_ENV=$(id)\n".into(),
        secret: false,
    };
    refused_naming(
        base.import_env(&bo, &svc, dotenv).await.unwrap_err(),
        "BASH_ENV",
    );
    let vars = base.list_env(&ana, &svc).await.unwrap().vars;
    assert!(vars.is_empty(), "a refused import sets nothing: {vars:?}");

    base.set_env(&bo, &svc, "NODE_ENV", set("production", false))
        .await
        .unwrap();
    base.set_env(
        &ana,
        &svc,
        "NODE_OPTIONS",
        set("--max-old-space-size=512", false),
    )
    .await
    .unwrap();
    refused_naming(
        base.unset_env(&bo, &svc, "NODE_OPTIONS").await.unwrap_err(),
        "NODE_OPTIONS",
    );
    let keys: Vec<String> = base
        .list_env(&ana, &svc)
        .await
        .unwrap()
        .vars
        .into_iter()
        .map(|v| v.key)
        .collect();
    assert_eq!(keys, ["NODE_ENV", "NODE_OPTIONS"]);
}
on_both_backends!(h1, h1_member_cannot_set_loader_env_names);

async fn deploy(base: &Base, who: &Actor, svc: &str, git_ref: &str) -> Result<(), DomainError> {
    let req = CreateDeploymentRequest {
        git_ref: Some(git_ref.into()),
    };
    base.create_deployment(who, svc, req, None)
        .await
        .map(|_| ())
}

async fn generic_hook(base: &Base, svc: &str, secret: &str, body: &str) -> HookReply {
    let headers = HookHeaders::new([("authorization".to_string(), format!("Bearer {secret}"))]);
    base.receive_hook(
        Provider::Generic,
        svc,
        &headers,
        body.as_bytes(),
        ClientInfo::default(),
    )
    .await
    .unwrap()
}

async fn l10_pull_request_refs_are_refused(db: &TestDb) {
    let (base, ana, bo, svc) = owner_and_member(db).await;
    for bad in [
        "refs/pull/7/head",
        "refs/pull/7/merge",
        "pull/7/head",
        "refs/merge-requests/3/head",
        "refs/remotes/origin/main",
        "refs/notes/commits",
        "main~1",
        "main^2",
        ":/fix",
        "main@{1}",
        "refs/heads/",
    ] {
        for who in [&bo, &ana] {
            let err = deploy(&base, who, &svc, bad).await.unwrap_err();
            assert!(
                matches!(&err, DomainError::Invalid { field: "ref", .. }),
                "{bad}: {err:?}"
            );
        }
    }
    for good in [
        "main",
        "refs/heads/main",
        "refs/tags/v1.2.0",
        "v1.2.0",
        "feature/login",
        "0123456789abcdef0123456789abcdef01234567",
    ] {
        deploy(&base, &bo, &svc, good).await.unwrap();
    }

    // A generic hook's bare commit is not deployed: the branch filter cannot be applied to it.
    let secret = base
        .enable_webhook(&ana, &svc, EnableWebhookRequest::default())
        .await
        .unwrap()
        .secret;
    let bare = generic_hook(&base, &svc, &secret, r#"{"commit":"abc1234"}"#).await;
    assert!(matches!(bare, HookReply::Ignored { .. }), "{bare:?}");
    let pr = r#"{"ref":"refs/pull/7/head","commit":"abc1235"}"#;
    let pr = generic_hook(&base, &svc, &secret, pr).await;
    assert!(matches!(pr, HookReply::Ignored { .. }), "{pr:?}");
    let on_main = r#"{"ref":"refs/heads/main","commit":"abc1236"}"#;
    let on_main = generic_hook(&base, &svc, &secret, on_main).await;
    assert!(matches!(on_main, HookReply::Deployed { .. }), "{on_main:?}");
}
on_both_backends!(l10, l10_pull_request_refs_are_refused);
