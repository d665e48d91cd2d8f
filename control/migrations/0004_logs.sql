-- Service output (build and runtime), kept per service up to a bound: the oldest lines are
-- deleted as new ones arrive, and `services.logs_dropped` counts them so readers can say so.
-- `seq` is Base-wide and increasing: it orders lines and is what `since` resumes from.
CREATE TABLE log_lines (
    seq           BIGINT PRIMARY KEY,
    service_id    TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    deployment_id TEXT,
    at_ms         BIGINT NOT NULL,
    stream        TEXT NOT NULL,
    line          TEXT NOT NULL
);
CREATE INDEX log_lines_service ON log_lines(service_id, seq);
CREATE INDEX log_lines_deployment ON log_lines(deployment_id, seq);

ALTER TABLE services ADD COLUMN logs_dropped BIGINT NOT NULL DEFAULT 0;
