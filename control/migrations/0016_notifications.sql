-- Alerts and notifications (issue 19). A cluster's channels, each subscribed to alert kinds
-- (`events` holds them comma-separated with a comma at each end, so `LIKE '%,kind,%'` finds
-- subscribers). A channel's secret is sealed like a deploy webhook's (AES-256-GCM under the
-- master key `key_id`, bound to `notification/<id>`): a webhook's signing secret, or the Slack
-- or Discord URL. `target` is what is not secret: a webhook's URL, an email channel's
-- recipients (comma-separated), '' otherwise.
CREATE TABLE notification_channels (
    id            TEXT PRIMARY KEY,
    cluster_id    TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'discord', 'email')),
    target        TEXT NOT NULL,
    sealed        TEXT,
    key_id        TEXT,
    events        TEXT NOT NULL,
    disk_pct      BIGINT,
    mem_pct       BIGINT,
    mem_minutes   BIGINT,
    created_at    BIGINT NOT NULL,
    created_by    TEXT REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX notification_channels_cluster ON notification_channels (cluster_id);

-- The outbox: one row per notification per channel, written in the transaction of what caused
-- it; a background worker delivers `pending` rows whose `next_attempt_at` has come, with
-- exponential backoff, until `delivered` or, after the last attempt, `failed`.
CREATE TABLE notification_outbox (
    id               TEXT PRIMARY KEY,
    channel_id       TEXT NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    alert            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX notification_outbox_due ON notification_outbox (state, next_attempt_at);
CREATE INDEX notification_outbox_channel ON notification_outbox (channel_id, created_at);

-- Every attempt: when, and the receiver's status or the error.
CREATE TABLE notification_attempts (
    id           TEXT PRIMARY KEY,
    outbox_id    TEXT NOT NULL REFERENCES notification_outbox(id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    ok           BIGINT NOT NULL,
    http_status  BIGINT,
    error        TEXT
);
CREATE INDEX notification_attempts_outbox ON notification_attempts (outbox_id, at);

-- Incidents in progress: one row while an instance is offline, a service crash-loops or is
-- unhealthy, a disk or memory threshold of a channel is crossed (`subject` names what and, for
-- thresholds, the channel). Opening inserts the row, ending deletes it: whichever statement
-- changed a row sends the one alert, so no incident alerts twice.
CREATE TABLE notification_incidents (
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    cluster_id  TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    opened_at   BIGINT NOT NULL,
    PRIMARY KEY (kind, subject)
);
