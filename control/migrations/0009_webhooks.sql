-- Push-to-deploy webhooks, one per service. The secret is sealed like a service secret
-- (AES-256-GCM under the master key `key_id`, bound to `webhook/<service>`): GitHub signs with
-- HMAC-SHA256, which needs the raw secret, so a hash would not do. `branch` NULL means "the
-- service's own git branch". The last verified delivery is kept here for the settings page.
CREATE TABLE service_webhooks (
    service_id       TEXT PRIMARY KEY REFERENCES services(id) ON DELETE CASCADE,
    sealed           TEXT NOT NULL,
    key_id           TEXT NOT NULL,
    branch           TEXT,
    created_at       BIGINT NOT NULL,
    created_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    last_delivery_at BIGINT,
    last_provider    TEXT,
    last_outcome     TEXT
);

-- Delivery ids already handled, so a retried delivery deploys once. Rows older than a week are
-- pruned as new deliveries arrive (providers retry within hours, not weeks).
CREATE TABLE webhook_deliveries (
    service_id  TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (service_id, provider, delivery_id)
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries(received_at);
