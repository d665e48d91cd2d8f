-- Portable DDL: the same file runs on SQLite and PostgreSQL. Times are BIGINT milliseconds since
-- the Unix epoch (UTC); ids are prefixed ULIDs; tokens are stored only as SHA-256 hex digests.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- One row per sign-in. Logout and password changes set revoked_at; rows are never reused.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE clusters (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL
);

CREATE TABLE memberships (
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (cluster_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

-- Append-only audit log. The app never updates or deletes a row.
CREATE TABLE events (
    id               TEXT PRIMARY KEY,
    cluster_id       TEXT REFERENCES clusters(id) ON DELETE CASCADE,
    actor_user_id    TEXT,
    actor_ip         TEXT,
    actor_user_agent TEXT,
    action           TEXT NOT NULL,
    target           TEXT,
    details          TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX events_cluster_time ON events(cluster_id, created_at);

-- One-shot facts about this Base. 'owner_claimed' makes "only the first person may sign up"
-- race-free: two concurrent first sign-ups cannot both insert it.
CREATE TABLE base_flags (
    name       TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
