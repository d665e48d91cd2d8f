-- CI OIDC federation (issue 21): a cluster trusts identity tokens of one issuer whose claims
-- name one repository (and, when set, one ref and one environment), exchanged for a short-lived
-- API token with `role`. The token acts for `created_by`, capped by their role at the time;
-- a binding goes with its creator's account.
CREATE TABLE oidc_bindings (
    id           TEXT PRIMARY KEY,
    cluster_id   TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    provider     TEXT NOT NULL CHECK (provider IN ('github', 'gitlab')),
    issuer       TEXT NOT NULL,
    audience     TEXT NOT NULL,
    repository   TEXT NOT NULL,
    git_ref      TEXT,
    environment  TEXT,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'member', 'guest')),
    created_by   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX oidc_bindings_cluster ON oidc_bindings (cluster_id);
CREATE INDEX oidc_bindings_issuer ON oidc_bindings (issuer, repository);
