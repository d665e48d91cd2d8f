-- Service output moves from one row per line to one row per stored batch of a service's lines
-- (a chunk): a burst of 100k lines a second is a few dozen inserts instead of 100k, which is what
-- lets Base keep up with a service printing as fast as it can (BENCHMARKS.md). `body` is a JSON
-- array of [seq, at_ms, stream, deployment_id, line]; `lines` counts them, so the bound per
-- service is kept by deleting whole chunks. `first_seq`..`last_seq` spans the chunk's lines, and
-- a service's chunks never overlap. Lines stored one per row before this cannot be converted in
-- SQL both databases share; they are dropped (and counted in `logs_dropped`).
UPDATE services SET logs_dropped = logs_dropped + (
    SELECT COUNT(*) FROM log_lines WHERE log_lines.service_id = services.id);
DROP TABLE log_lines;
CREATE TABLE log_chunks (
    service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    first_seq  BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL,
    lines      BIGINT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (service_id, first_seq)
);
CREATE INDEX log_chunks_last_seq ON log_chunks(last_seq);
