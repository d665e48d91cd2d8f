-- Sessions you can see and end: each gets an opaque id (`ses_…`) to be named by in the API and
-- the dashboard (never its token hash), and the time it was last used, written at most once a
-- minute per session. Sessions from before this migration get a random id, which each database
-- makes its own way (so this file has a twin in migrations/postgres).
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;
UPDATE sessions SET id = 'ses_' || lower(hex(randomblob(16))) WHERE id IS NULL;
CREATE UNIQUE INDEX sessions_id ON sessions(id);
