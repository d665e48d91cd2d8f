//! The work Base hands an agent on the control stream and what the agent reports back about
//! it: deploy orders, service lifecycle commands, deployment progress and the actual state the
//! agent sends on every (re)connect so Base can reconcile.

use serde::{Deserialize, Serialize};

use crate::deploy::DeployState;
use crate::ids::{DeploymentId, ServiceId};
use crate::service::ServiceSpec;

/// Build and start a new release of a service, then switch its traffic to it. Sent again with
/// the same `deployment_id` after a reconnect until acknowledged; the agent runs it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployOrder {
    pub deployment_id: DeploymentId,
    pub service_id: ServiceId,
    /// The instance's name in Base, for messages people read ("node not found on instance
    /// web-1").
    #[serde(default)]
    pub instance_name: String,
    pub spec: ServiceSpec,
    /// Branch, tag or commit to fetch; `None`: the source's branch.
    pub git_ref: Option<String>,
    /// The build's hard limit; past it the deployment ends `timed_out`.
    pub build_timeout_secs: u32,
    /// How long the old release keeps serving in-flight requests after the switch.
    pub drain_secs: u32,
    /// The service's secrets, opened by Base for this instance alone: given to the build and
    /// the release as environment variables, and redacted from every log line.
    #[serde(default, skip_serializing_if = "Secrets::is_empty")]
    pub secrets: Secrets,
}

/// Secret environment variables by name. `Debug` shows the names only, so an order or a release
/// that is logged never prints a value.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secrets(pub std::collections::BTreeMap<String, String>);

impl Secrets {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A service lifecycle action on the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Restart,
    Stop,
    Start,
    /// Stop it and delete its releases and routes.
    Remove,
}

/// Progress of one deployment, sent on every transition. `log_tail` carries the last lines of
/// output when a deployment fails, so the reason is visible without opening the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployProgress {
    pub deployment_id: DeploymentId,
    pub state: DeployState,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub log_tail: Vec<String>,
    /// The build plan (runtime, version, package manager, each command and why), sent once with
    /// `building` (or the first step after it) so the dashboard shows it on the deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<String>,
}

/// How a service's process is doing on the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Stopped,
    /// Exited unexpectedly; restarting with backoff.
    Crashed,
    /// Running, but its health check has failed several times in a row since it went live;
    /// restarted by the restart policy.
    Unhealthy,
}

/// One service as the agent runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceReport {
    pub service_id: ServiceId,
    pub run: RunState,
    /// Crashes since the release went live; Base writes it into the crash and health events.
    #[serde(default)]
    pub restarts: u32,
    /// Why the process is crashed or unhealthy (`GET / answered 503`, `exit code 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the agent actually runs and what became of every deployment it was given; Base
/// reconciles its desired state against this after each reconnect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    pub services: Vec<ServiceReport>,
    /// The latest state of every deployment the agent still remembers.
    pub deployments: Vec<DeployProgress>,
    /// Every certificate the instance serves now (so Base learns them after a reconnect).
    #[serde(default)]
    pub certificates: Vec<super::domains::CertReport>,
}

/// Which output a log line came from; `system` lines are dployrd's own ("the process exited").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
    System,
}

crate::names::wire_names!(LogStream, "log stream" {
    Stdout => "stdout",
    Stderr => "stderr",
    System => "system",
});

/// One line of a service's output on the agent's log stream: build output carries its
/// deployment, runtime output the live release's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    pub service_id: ServiceId,
    #[serde(default)]
    pub deployment_id: Option<DeploymentId>,
    pub at_ms: i64,
    pub stream: LogStream,
    pub line: String,
}

#[cfg(test)]
mod tests {
    use super::LogStream;

    #[test]
    fn log_stream_round_trips_through_its_wire_name() {
        crate::names::assert_names_match_serde(
            &LogStream::ALL,
            LogStream::as_str,
            LogStream::parse,
        );
    }
}
