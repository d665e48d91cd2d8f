-- Environment variables and secrets of a service. A plain variable's value lives in the
-- service's spec (`spec.env`, what deployments copy); this table holds who set each variable
-- and when, and for secrets the sealed value: AES-256-GCM under the master key `key_id` (which
-- never enters the database), bound to `<service>/<name>`. A secret is never stored in clear and
-- never read back by any API: it is opened only to go to the instance that runs the service.
CREATE TABLE service_env (
    service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    secret     BIGINT NOT NULL,
    sealed     TEXT,
    key_id     TEXT,
    updated_at BIGINT NOT NULL,
    updated_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    PRIMARY KEY (service_id, name)
);
-- When the variables last changed after the newest deployment was made (NULL: deployments
-- already run with the current variables). Drives "env changed, redeploy to apply".
ALTER TABLE services ADD COLUMN env_changed_at BIGINT;
