-- Instances (servers running dployrd) and their single-use join tokens.
-- cert_fingerprint is the SHA-256 (hex) of the client certificate dployrd presented when it
-- enrolled; the agent gateway accepts a TLS connection only if its certificate hashes to a
-- fingerprint found here. Deleting the row revokes the instance.
CREATE TABLE instances (
    id               TEXT PRIMARY KEY,
    cluster_id       TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    cert_fingerprint TEXT UNIQUE,
    created_at       BIGINT NOT NULL,
    created_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    enrolled_at      BIGINT,
    last_seen_at     BIGINT,
    agent_version    TEXT,
    host_facts       TEXT,
    UNIQUE (cluster_id, name)
);

CREATE TABLE join_tokens (
    token_hash  TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX join_tokens_instance ON join_tokens(instance_id);
