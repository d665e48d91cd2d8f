//! What each role sees of a service (audit finding H3), on SQLite and PostgreSQL: Guests get no
//! plain env values, nobody gets a git URL's credentials back, and a change that sends back the
//! redacted URL it was shown keeps the stored credentials dployrd fetches with.

mod common;

use common::{TestDb, person};
use control::store::{memberships, services};
use control::{Actor, Base, clock};
use proto::api::{CreateServiceRequest, Role, Service, UpdateServiceRequest};
use proto::service::{GitSource, Source};

const URL: &str = "https://bot:s3cret@git.example.com/a/b.git";
const SHOWN: &str = "https://bot:redacted@git.example.com/a/b.git";
const DATABASE_URL: &str = "postgres://app:pw@db/app";

/// What `who` is shown of the service, by `get_service` and `list_services` alike.
async fn shown_to(base: &Base, who: &Actor, cluster: &str, id: &str) -> Service {
    let one = base.get_service(who, id).await.unwrap();
    let listed = base.list_services(who, cluster).await.unwrap();
    assert_eq!(listed, vec![one.clone()]);
    one
}

fn git_url(s: &Service) -> &str {
    match &s.spec.source {
        Source::Git(g) => &g.url,
        Source::Image(_) => panic!("a git service"),
    }
}

async fn stored_spec(db: &TestDb, id: &str) -> String {
    services::by_id(db.store.pool(), id)
        .await
        .unwrap()
        .unwrap()
        .spec
}

async fn h3_guests_see_no_env_values_and_nobody_sees_git_credentials(db: &TestDb) {
    let base = db.base(true);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let (bo, bo_id, _) = person(&base, "bo@example.com").await;
    let instance = base.create_instance(&ana, &cluster, "web-1").await.unwrap();
    let req: CreateServiceRequest = serde_json::from_value(serde_json::json!({
        "name": "api",
        "instance_id": instance.instance.id,
        "source": {"git": {"url": URL, "branch": "main"}},
        "env": {"DATABASE_URL": DATABASE_URL},
    }))
    .unwrap();
    let created = base.create_service(&ana, &cluster, req).await.unwrap();
    assert_eq!(git_url(&created), SHOWN);
    assert_eq!(created.spec.env["DATABASE_URL"], DATABASE_URL);

    for (role, sees_env) in [
        (Role::Guest, false),
        (Role::Member, true),
        (Role::Admin, true),
    ] {
        sqlx::query("DELETE FROM memberships WHERE user_id = $1")
            .bind(&bo_id)
            .execute(db.store.pool())
            .await
            .unwrap();
        memberships::insert(db.store.pool(), &cluster, &bo_id, role, clock::now_ms())
            .await
            .unwrap();
        let seen = shown_to(&base, &bo, &cluster, &created.id).await;
        let json = serde_json::to_string(&seen).unwrap();
        assert!(
            !json.contains("s3cret"),
            "{role:?} was shown the git password: {json}"
        );
        assert_eq!(git_url(&seen), SHOWN, "{role:?}");
        assert_eq!(json.contains(DATABASE_URL), sees_env, "{role:?}: {json}");
        assert_eq!(seen.spec.env.is_empty(), !sees_env, "{role:?}");
    }

    // The dashboard's form sends back what it was shown, with a new branch: the credentials stay.
    let keep = UpdateServiceRequest {
        source: Some(Source::Git(GitSource {
            url: SHOWN.into(),
            branch: "dev".into(),
        })),
        ..Default::default()
    };
    let updated = base.update_service(&ana, &created.id, keep).await.unwrap();
    assert_eq!(git_url(&updated), SHOWN);
    let spec = stored_spec(db, &created.id).await;
    assert!(spec.contains(URL) && spec.contains("\"dev\""), "{spec}");

    // A new URL with new credentials replaces them.
    let replace = UpdateServiceRequest {
        source: Some(Source::Git(GitSource {
            url: "https://ghp_newtoken@github.com/a/b.git".into(),
            branch: "main".into(),
        })),
        ..Default::default()
    };
    let updated = base
        .update_service(&ana, &created.id, replace)
        .await
        .unwrap();
    assert_eq!(git_url(&updated), "https://redacted@github.com/a/b.git");
    assert!(stored_spec(db, &created.id).await.contains("ghp_newtoken"));
}
on_both_backends!(
    h3_views,
    h3_guests_see_no_env_values_and_nobody_sees_git_credentials
);
