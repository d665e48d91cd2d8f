-- Commands across replicas (issue 20): a command for an agent another replica holds is written
-- here by the replica that decided it; the holder (woken by NOTIFY, or finding it at its next
-- poll) takes it once, sends it over its connection and writes the outcome back, which the
-- deciding replica reads. A row past its deadline is never taken; old rows are deleted.
CREATE TABLE agent_commands (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    command       TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    deadline      BIGINT NOT NULL,
    taken_by      TEXT,
    outcome       TEXT,
    done_at       BIGINT
);
CREATE INDEX agent_commands_instance ON agent_commands (instance_id);
