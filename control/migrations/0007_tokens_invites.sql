-- API tokens for the CLI and CI: `dp_…`, shown once, stored as SHA-256 hex. A token acts for
-- the person who made it, in one cluster, with at most its own role (and never more than that
-- person's role at the time of use). Revoked or expired tokens stop working at once.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    cluster_id   TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_cluster ON api_tokens(cluster_id);

-- Invitations to a cluster: a single-use token (stored hashed) sent as a link, valid 7 days.
CREATE TABLE invites (
    id          TEXT PRIMARY KEY,
    cluster_id  TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    revoked_at  BIGINT
);
CREATE INDEX invites_cluster ON invites(cluster_id);

-- Which API token (if any) acted, beside the person it acts for.
ALTER TABLE events ADD COLUMN actor_token_id TEXT;
CREATE INDEX events_cluster_action ON events(cluster_id, action, created_at);
