-- Metrics from each instance's dployrd (issue 19): one row per series, resolution and time.
-- A series is an instance's host (`service_id` = '') or one service on it. `tier` is the
-- resolution: 0 = raw 10 s points (kept 24 h), 1 = 1-minute rollups (7 days), 2 = 1-hour
-- rollups (90 days); Base stamps raw rows with its own time floored to 10 s, so the key below
-- bounds every series to 8640 + 10080 + 2160 rows. Percentages and loads are hundredths, so
-- every value is an integer on both backends. No foreign keys: rows of a deleted service or
-- instance age out with the retention instead of making deletes slower.
CREATE TABLE metric_points (
    instance_id      TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    tier             BIGINT NOT NULL CHECK (tier IN (0, 1, 2)),
    at               BIGINT NOT NULL,
    cpu_centi_pct    BIGINT,
    mem_bytes        BIGINT,
    restarts         BIGINT,
    mem_total_bytes  BIGINT,
    load1_centi      BIGINT,
    load5_centi      BIGINT,
    load15_centi     BIGINT,
    swap_used_bytes  BIGINT,
    swap_total_bytes BIGINT,
    disk_used_bytes  BIGINT,
    disk_total_bytes BIGINT,
    rx_bps           BIGINT,
    tx_bps           BIGINT,
    PRIMARY KEY (instance_id, service_id, tier, at)
);
-- The rollup and the retention read and delete by resolution and time across all series.
CREATE INDEX metric_points_tier_at ON metric_points (tier, at);
