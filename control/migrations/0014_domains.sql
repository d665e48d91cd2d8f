-- A service's custom domains (issue 18). A name is unique across Base, so no cluster can take a
-- host another one holds; it is routed only once `status` is `verified` (the TXT record
-- `_dployr.<name>` = `dployr-verify=<token>` was seen). `cert_*` is what the instance last
-- reported about its certificate; an uploaded certificate's key is sealed like a service secret
-- (AES-256-GCM under the master key `upload_key_id`, bound to `domain/<name>`). Portable DDL:
-- both backends take the same CHECKs in CREATE TABLE.
CREATE TABLE domains (
    id                TEXT PRIMARY KEY,
    cluster_id        TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    service_id        TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    name              TEXT NOT NULL UNIQUE,
    token             TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'verified')),
    verified_at       BIGINT,
    last_checked_at   BIGINT,
    last_error        TEXT,
    -- Background checks back off per domain: the next check is not before this.
    next_check_at     BIGINT NOT NULL,
    check_failures    BIGINT NOT NULL DEFAULT 0,
    cert_state        TEXT NOT NULL DEFAULT 'none' CHECK (cert_state IN ('none', 'issued', 'failed')),
    cert_expires_at   BIGINT,
    cert_issuer       TEXT,
    cert_reason       TEXT,
    cert_retry_at     BIGINT,
    upload_chain      TEXT,
    upload_key_sealed TEXT,
    upload_key_id     TEXT,
    hsts              BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL
);
CREATE INDEX domains_service ON domains(service_id);
CREATE INDEX domains_pending ON domains(status, next_check_at);
