-- Two-factor sign-in (issue 21). One TOTP secret per account, sealed like a service secret
-- (AES-256-GCM under the master key `key_id`, bound to `totp/<user>`): checking a code needs the
-- raw secret, so a hash would not do. `enabled_at` NULL: an enrolment started but not confirmed.
-- `last_step` is the 30 s step of the last code accepted, so a code cannot be replayed.
CREATE TABLE user_totp (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enabled_at BIGINT,
    last_step  BIGINT
);

-- Single-use backup codes: only the SHA-256 hex of each (80 random bits) is kept.
CREATE TABLE backup_codes (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX backup_codes_user ON backup_codes(user_id);

-- A correct password on an account with two-factor: the second step's ticket (5 minutes, one
-- use), stored as the SHA-256 hex of the token the client holds.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- When a code was last entered on a session (at sign-in or a step-up): sensitive actions need
-- one within the last 5 minutes.
ALTER TABLE sessions ADD COLUMN step_up_at BIGINT;

-- 1: an Owner requires two-factor sign-in of every member of the cluster.
ALTER TABLE clusters ADD COLUMN require_2fa BIGINT NOT NULL DEFAULT 0;
