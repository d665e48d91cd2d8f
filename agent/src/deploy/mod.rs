//! The building blocks of a deploy on this instance (DESIGN.md §4), independent of Base: the
//! orchestrator (deploy state machine, ingress switch, messages to Base) is built on these.
//! Read in this order:
//!
//! - [`app_dir`]: the app's folder in the checkout (its root directory) and the `dployr.toml`
//!   files that apply there.
//! - [`repo_config`]: `dployr.toml` in the repository, over the dashboard's settings.
//! - [`runtime`]: which language runtime a service uses, named or detected from its files.
//! - [`plan`]: the default build and start commands for a runtime, and the user's overrides.
//! - [`toolchain`]: the plan's executables are on the instance, or a clear error naming one.
//! - [`versions`]: the runtime version the app asks for (its files, or the service's
//!   `runtime_version`) is the instance's, or a clear error naming both, before the build.
//! - [`process`]: shell commands in their own process group: timeouts, cancel, logs.
//! - [`cgroup`]: the cgroup of a service's process or a build: limits, and a stop that reaches
//!   every process it started.
//! - [`fetch`]: one exact commit of a git repository into a release directory.
//! - [`health`]: whether a started release answers, before traffic moves to it.
//! - [`ports`]: a free port for a new release.
//! - [`service_user`]: the system user each service, its builds and its console run as.

pub mod app_dir;
pub mod cgroup;
pub mod fetch;
pub mod health;
pub mod plan;
pub mod ports;
pub mod process;
pub mod repo_config;
pub mod runtime;
pub mod service_user;
#[cfg(test)]
pub(crate) mod test_files;
pub mod toolchain;
pub mod versions;

pub use fetch::{FetchError, fetch};
pub use health::{HealthCheck, Probe, Unhealthy, probe, wait_healthy};
pub use plan::{Host, Overrides, Plan, Procfile, Step, plan};
pub use ports::free_port;
pub use process::{CancellationToken, Exit, LogLine, Running, ShellCommand, Stream};
pub use runtime::{Runtime, detect};
pub use toolchain::{MissingTool, check_toolchain, check_toolchain_in};
