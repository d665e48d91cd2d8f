-- The build plan dployrd chose for a deployment (runtime, version, package manager, each command
-- and why): a JSON array of lines, sent once with the deployment's `building` (or `starting`)
-- progress and shown on the deployment. NULL before then, and for image deployments.
ALTER TABLE deployments ADD COLUMN plan TEXT;
