-- Base replicas on one PostgreSQL (issue 20). Each running dployr-server is a replica with a
-- lease it renews every few seconds; one whose lease ran out is dead (killed, partitioned), and
-- the agent connections it held count as gone. On SQLite there is only ever one replica.
CREATE TABLE replicas (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    lease_until  BIGINT NOT NULL
);

-- Which replica holds each agent's connection. `epoch` counts the instance's connections up
-- across all replicas: the replica whose connection was replaced by a newer one (on it or on
-- another) cannot remove the newer record, so a stale replica never takes an agent back.
CREATE TABLE agent_connections (
    instance_id   TEXT PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
    replica_id    TEXT NOT NULL,
    epoch         BIGINT NOT NULL,
    connected_at  BIGINT NOT NULL
);
CREATE INDEX agent_connections_replica ON agent_connections (replica_id);
