//! Stored states are one of the names the code knows, on SQLite and PostgreSQL: the database
//! refuses any other service status, deployment state or role (migration 0012 and the CHECKs of
//! 0001 and 0007), and a bad value that got in anyway (written before the rule, or past it) is an
//! error naming the column and the value when read, never a silent default.

mod common;

use common::{TestDb, owner_with_service};
use control::idempotency::Queued;
use control::store::{Backend, memberships};
use control::{Actor, Base, DomainError};
use proto::api::{CreateDeploymentRequest, Role, ServiceStatus};
use proto::deploy::DeployState;

/// Runs one raw statement with one text parameter.
async fn exec(db: &TestDb, sql: &str, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql)
        .bind(value)
        .execute(db.store.pool())
        .await
        .map(drop)
}

/// The log detail of an `Internal` error (what the operator reads), panicking on any other.
fn internal(r: Result<impl std::fmt::Debug, DomainError>) -> String {
    match r {
        Err(DomainError::Internal(e)) => e.to_string(),
        other => panic!("expected an internal error, got {other:?}"),
    }
}

/// A service with one (queued) deployment: `(owner, service id, deployment id)`.
async fn service_with_deployment(base: &Base) -> (Actor, String, String) {
    let (actor, svc) = owner_with_service(base).await;
    let dep = base
        .create_deployment(&actor, &svc, CreateDeploymentRequest::default(), None)
        .await
        .and_then(Queued::into_deployment)
        .unwrap();
    (actor, svc, dep.id)
}

async fn the_database_refuses_unknown_states(db: &TestDb) {
    let base = db.base(true);
    let (actor, svc, dep) = service_with_deployment(&base).await;
    let cluster = base.get_service(&actor, &svc).await.unwrap().cluster_id;
    let set_status = format!("UPDATE services SET status = $1 WHERE id = '{svc}'");
    let set_state = format!("UPDATE deployments SET state = $1 WHERE id = '{dep}'");
    let add_step = format!(
        "INSERT INTO deployment_transitions (deployment_id, state, at) VALUES ('{dep}', $1, 0)"
    );
    let set_role = format!(
        "UPDATE memberships SET role = $1 WHERE cluster_id = '{cluster}' AND user_id = '{}'",
        actor.user.id
    );
    // Every name the code knows is allowed, so the lists in the migration match the enums.
    for s in ServiceStatus::ALL {
        exec(db, &set_status, s.as_str()).await.unwrap();
    }
    for s in DeployState::ALL {
        exec(db, &set_state, s.as_str()).await.unwrap();
        exec(db, &add_step, s.as_str()).await.unwrap();
    }
    for r in Role::ALL {
        exec(db, &set_role, r.as_str()).await.unwrap();
    }
    for sql in [&set_status, &set_state, &add_step, &set_role] {
        let e = exec(db, sql, "bogus").await.unwrap_err();
        assert!(
            e.to_string().contains("CHECK constraint")
                || e.to_string().contains("check constraint"),
            "{sql}: {e}"
        );
    }
    let insert_service = "INSERT INTO services (id, cluster_id, instance_id, name, spec, status, \
                          created_at, updated_at) SELECT 'svc_2', cluster_id, instance_id, 'b', \
                          spec, $1, 0, 0 FROM services LIMIT 1";
    assert!(exec(db, insert_service, "bogus").await.is_err());
    exec(db, insert_service, "new").await.unwrap();
}
on_both_backends!(
    the_database_refuses_unknown_states,
    the_database_refuses_unknown_states
);

/// Lifts the rules of migration 0012 (and on PostgreSQL the role CHECK), as if the rows predated
/// them.
async fn lift_the_rules(db: &TestDb) {
    let statements: &[&str] = match db.store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER services_status_known_update",
            "DROP TRIGGER deployments_state_known_update",
        ],
        Backend::Postgres => &[
            "ALTER TABLE services DROP CONSTRAINT services_status_known",
            "ALTER TABLE deployments DROP CONSTRAINT deployments_state_known",
            "ALTER TABLE memberships DROP CONSTRAINT memberships_role_check",
        ],
    };
    for sql in statements {
        sqlx::query(sql).execute(db.store.pool()).await.unwrap();
    }
}

/// Writes `sql` past the rules (on SQLite the role CHECK is part of the table, so it is lifted
/// for this one connection).
async fn write_past(db: &TestDb, sql: &str) {
    let mut conn = db.store.pool().acquire().await.unwrap();
    if db.store.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA ignore_check_constraints = ON")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    sqlx::query(sql).execute(&mut *conn).await.unwrap();
    if db.store.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA ignore_check_constraints = OFF")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

async fn a_bad_stored_value_is_an_error_not_a_default(db: &TestDb) {
    let base = db.base(true);
    let (actor, svc, dep) = service_with_deployment(&base).await;
    let cluster = base.get_service(&actor, &svc).await.unwrap().cluster_id;
    lift_the_rules(db).await;

    write_past(
        db,
        &format!("UPDATE deployments SET state = 'paused' WHERE id = '{dep}'"),
    )
    .await;
    let e = internal(base.get_deployment(&actor, &dep).await);
    assert!(e.contains("state") && e.contains("\"paused\""), "{e}");

    write_past(
        db,
        &format!("UPDATE services SET status = 'sleeping' WHERE id = '{svc}'"),
    )
    .await;
    let e = internal(base.get_service(&actor, &svc).await);
    assert!(e.contains("status") && e.contains("\"sleeping\""), "{e}");

    write_past(
        db,
        &format!(
            "INSERT INTO log_chunks (service_id, first_seq, last_seq, lines, body) \
             VALUES ('{svc}', 1, 1, 1, '[[1, 0, \"loud\", null, \"hi\"]]')"
        ),
    )
    .await;
    let e = format!(
        "{:?}",
        control::store::logs::after(db.store.pool(), &svc, None, 0, 10)
            .await
            .unwrap_err()
    );
    assert!(e.contains("loud"), "{e}");

    write_past(
        db,
        &format!(
            "UPDATE memberships SET role = 'root' WHERE cluster_id = '{cluster}' AND user_id = '{}'",
            actor.user.id
        ),
    )
    .await;
    let e = memberships::role_of(db.store.pool(), &cluster, &actor.user.id)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("role") && e.contains("\"root\""), "{e}");
    let e = memberships::clusters_of(db.store.pool(), &actor.user.id)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"root\""), "{e}");
}
on_both_backends!(
    a_bad_stored_value_is_an_error_not_a_default,
    a_bad_stored_value_is_an_error_not_a_default
);
