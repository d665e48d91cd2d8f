-- The database refuses a service status or deployment state the code does not know (the lists are
-- `proto::api::ServiceStatus` and `proto::deploy::DeployState`; control/tests/store_checks.rs
-- pins them to the enums). Roles have had CHECKs since 0001 and 0007. Log streams live inside
-- the JSON body of a log chunk (0005), which no CHECK can see: reading one decodes it strictly.
-- PostgreSQL checks the rows already there when each constraint is added.
ALTER TABLE services ADD CONSTRAINT services_status_known CHECK (status IN (
    'new', 'deploying', 'running', 'stopped', 'crashed', 'unhealthy'));
ALTER TABLE deployments ADD CONSTRAINT deployments_state_known CHECK (state IN (
    'queued', 'fetching', 'building', 'starting', 'health_checking', 'live', 'failed',
    'cancelled', 'timed_out', 'superseded', 'rolled_back'));
ALTER TABLE deployment_transitions ADD CONSTRAINT deployment_transitions_state_known CHECK (state IN (
    'queued', 'fetching', 'building', 'starting', 'health_checking', 'live', 'failed',
    'cancelled', 'timed_out', 'superseded', 'rolled_back'));
