-- The database refuses a service status or deployment state the code does not know (the lists are
-- `proto::api::ServiceStatus` and `proto::deploy::DeployState`; control/tests/store_checks.rs
-- pins them to the enums). Roles have had CHECKs since 0001 and 0007. Log streams live inside
-- the JSON body of a log chunk (0005), which no CHECK can see: reading one decodes it strictly.
-- SQLite cannot add a CHECK to a table, and rebuilding `services` or `deployments` means
-- dropping tables others reference (with foreign keys on, the drop deletes their rows in
-- cascade), so triggers hold the same rule on every insert and update.
CREATE TRIGGER services_status_known_insert BEFORE INSERT ON services
WHEN NEW.status NOT IN (
    'new', 'deploying', 'running', 'stopped', 'crashed', 'unhealthy')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: services.status must be a known service status'); END;
CREATE TRIGGER services_status_known_update BEFORE UPDATE OF status ON services
WHEN NEW.status NOT IN (
    'new', 'deploying', 'running', 'stopped', 'crashed', 'unhealthy')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: services.status must be a known service status'); END;
CREATE TRIGGER deployments_state_known_insert BEFORE INSERT ON deployments
WHEN NEW.state NOT IN (
    'queued', 'fetching', 'building', 'starting', 'health_checking', 'live', 'failed',
    'cancelled', 'timed_out', 'superseded', 'rolled_back')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: deployments.state must be a known deployment state'); END;
CREATE TRIGGER deployments_state_known_update BEFORE UPDATE OF state ON deployments
WHEN NEW.state NOT IN (
    'queued', 'fetching', 'building', 'starting', 'health_checking', 'live', 'failed',
    'cancelled', 'timed_out', 'superseded', 'rolled_back')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: deployments.state must be a known deployment state'); END;
CREATE TRIGGER deployment_transitions_state_known_insert BEFORE INSERT ON deployment_transitions
WHEN NEW.state NOT IN (
    'queued', 'fetching', 'building', 'starting', 'health_checking', 'live', 'failed',
    'cancelled', 'timed_out', 'superseded', 'rolled_back')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: deployment_transitions.state must be a known deployment state'); END;
CREATE TRIGGER deployment_transitions_state_known_update BEFORE UPDATE OF state ON deployment_transitions
WHEN NEW.state NOT IN (
    'queued', 'fetching', 'building', 'starting', 'health_checking', 'live', 'failed',
    'cancelled', 'timed_out', 'superseded', 'rolled_back')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: deployment_transitions.state must be a known deployment state'); END;
