-- `Idempotency-Key` of `POST /api/v1/services/{id}/deployments`: a retried request with the same
-- key (per service and per caller: the API token when one acted, else the user) gets the first
-- answer back instead of a second deployment. `request_hash` (SHA-256 of the request) tells a
-- retry from a different request reusing the key; `response` is the deployment as first
-- answered. Rows older than 24 hours no longer count and are pruned as new keys arrive.
CREATE TABLE idempotency_keys (
    service_id    TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    principal     TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    response      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (service_id, principal, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
