-- Services Base deleted whose instance has not confirmed removing them yet (audit finding M7).
-- A `Remove` sent while the instance is offline or slow is kept here and sent again when its
-- agent says Hello, and periodically while it is online; the row goes once the agent acks it.
-- No foreign keys: the service is gone already, and a deleted cluster takes its instances
-- with it, while `cert_fingerprint` still recognises the agent when it comes back.
CREATE TABLE pending_removals (
    instance_id      TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    cert_fingerprint TEXT,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (instance_id, service_id)
);
CREATE INDEX pending_removals_fingerprint ON pending_removals(cert_fingerprint);
