-- The certificate of a service's default host `<service>.<instance's ingress domain>` (issue 18),
-- as the instance last reported it. A default host has no row in `domains` (nobody added it),
-- so its certificate is kept here, one row per service; `host` is the name it was issued for:
-- a renamed service or a changed ingress domain leaves a row that no longer applies, which the
-- view ignores and the next report replaces.
CREATE TABLE default_host_certs (
    service_id  TEXT PRIMARY KEY REFERENCES services(id) ON DELETE CASCADE,
    host        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('issued', 'failed')),
    expires_at  BIGINT,
    issuer      TEXT,
    reason      TEXT,
    retry_at    BIGINT,
    updated_at  BIGINT NOT NULL
);
