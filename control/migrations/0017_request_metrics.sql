-- Request figures from each instance's ingress (issue 19), on the service series of
-- `metric_points` (NULL for the host series and for agents that do not send them). Counts are
-- per point: requests answered in its step (a rollup sums them), by status class, and body
-- bytes in (from clients) and out. The latency percentiles are in microseconds; a rollup keeps
-- the largest of its points' (an upper bound: at most 1 % of all the requests of an hour can be
-- slower than the largest of its minutes' p99s, and so on for p95 and p50).
ALTER TABLE metric_points ADD COLUMN req_count BIGINT;
ALTER TABLE metric_points ADD COLUMN req_2xx BIGINT;
ALTER TABLE metric_points ADD COLUMN req_3xx BIGINT;
ALTER TABLE metric_points ADD COLUMN req_4xx BIGINT;
ALTER TABLE metric_points ADD COLUMN req_5xx BIGINT;
ALTER TABLE metric_points ADD COLUMN req_bytes_in BIGINT;
ALTER TABLE metric_points ADD COLUMN req_bytes_out BIGINT;
ALTER TABLE metric_points ADD COLUMN req_p50_us BIGINT;
ALTER TABLE metric_points ADD COLUMN req_p95_us BIGINT;
ALTER TABLE metric_points ADD COLUMN req_p99_us BIGINT;
