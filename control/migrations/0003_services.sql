-- Services, their deployments and each deployment's transitions.
-- `spec` is the service's settings as JSON (proto::service::ServiceSpec): validated in Rust,
-- stored whole so a new setting needs no migration. A deployment keeps the spec it was made
-- with, so a rollback or a retransmit after a reconnect runs exactly what was asked.
-- Instances with services cannot be deleted (RESTRICT): remove the services first.
CREATE TABLE services (
    id                 TEXT PRIMARY KEY,
    cluster_id         TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE RESTRICT,
    name               TEXT NOT NULL,
    spec               TEXT NOT NULL,
    status             TEXT NOT NULL,
    live_deployment_id TEXT,
    created_by         TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (cluster_id, name)
);
CREATE INDEX services_instance ON services(instance_id);

CREATE TABLE deployments (
    id          TEXT PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    git_ref     TEXT,
    commit_sha  TEXT,
    reason      TEXT,
    log_tail    TEXT,
    spec        TEXT NOT NULL,
    created_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    -- When the agent acknowledged the order; NULL while it still has to be delivered.
    accepted_at BIGINT
);
CREATE INDEX deployments_service ON deployments(service_id, created_at);
CREATE INDEX deployments_state ON deployments(state);

CREATE TABLE deployment_transitions (
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    state         TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX deployment_transitions_deployment ON deployment_transitions(deployment_id, at);
