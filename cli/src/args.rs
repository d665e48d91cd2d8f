//! The command line, as clap types. Every global option has an environment variable so CI can
//! configure the CLI without a config file (`DPLOYR_URL`, `DPLOYR_TOKEN`, `DPLOYR_CLUSTER`).

use clap::{Args, Parser, Subcommand};

mod domains;
mod limits;
mod metrics;
mod notifications;
mod oidc;
pub use domains::DomainsCmd;
pub use limits::LimitArgs;
pub use metrics::MetricsArgs;
pub use notifications::NotificationsCmd;
pub use oidc::{BindingsCmd, OidcCmd};

/// Deploy and manage services on your dployr Base.
///
/// Exit codes: 0 done, 1 the deploy failed, 2 usage error, 3 authentication or permission
/// error, 4 timed out, 5 Base unreachable or failing.
#[derive(Parser, Debug)]
#[command(name = "dployr", version, propagate_version = true)]
pub struct Cli {
    /// Base's URL (else the one saved by `dployr login`).
    #[arg(long, global = true, env = "DPLOYR_URL")]
    pub url: Option<String>,
    /// An API token (`dp_…`); else the one saved by `dployr login`.
    #[arg(long, global = true, env = "DPLOYR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The cluster to act in (id or name); a token's own cluster by default.
    #[arg(long, global = true, env = "DPLOYR_CLUSTER")]
    pub cluster: Option<String>,
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign in and save a token for this machine: `--url URL --token dp_…` saves that token;
    /// `--url URL --email E` signs in with a password and creates one. Asks for what is missing.
    Login(LoginArgs),
    /// Forget the saved login (and revoke its token on Base).
    Logout,
    /// Who and where the current token acts.
    Whoami,
    /// Your clusters.
    Clusters {
        #[command(subcommand)]
        cmd: Option<ShowCmd>,
    },
    /// The cluster's servers.
    Instances {
        #[command(subcommand)]
        cmd: Option<InstancesCmd>,
    },
    /// The cluster's services.
    Services {
        #[command(subcommand)]
        cmd: Option<ServicesCmd>,
    },
    /// Deploy a service (its branch's newest commit, or --ref).
    Deploy(DeployArgs),
    /// A service's recent deployments.
    Deployments { service: Option<String> },
    /// Cancel a deployment in progress.
    Cancel { deployment: String },
    /// A service's logs.
    Logs(LogsArgs),
    /// A service's (or with --instance, a server's) CPU, memory and more.
    Metrics(MetricsArgs),
    /// A service's variables and secrets (secret values are never shown).
    Env {
        #[command(subcommand)]
        cmd: EnvCmd,
    },
    /// A service's custom domains: add, verify (DNS TXT), list, remove.
    Domains {
        #[command(subcommand)]
        cmd: DomainsCmd,
    },
    /// The cluster's alert channels (webhook, Slack, Discord, email): list, add, remove, test,
    /// deliveries.
    Notifications {
        #[command(subcommand)]
        cmd: NotificationsCmd,
    },
    /// CI OIDC federation: which repositories' CI jobs may sign in with their identity token.
    Oidc {
        #[command(subcommand)]
        cmd: OidcCmd,
    },
    /// Make an earlier deployment live again (the previous one by default).
    Rollback {
        service: Option<String>,
        /// The deployment to go back to.
        #[arg(long)]
        to: Option<String>,
    },
    /// Restart a service's live release.
    Restart { service: Option<String> },
    /// Stop a service.
    Stop { service: Option<String> },
    /// Start a stopped service.
    Start { service: Option<String> },
    /// API tokens for CI.
    Tokens {
        #[command(subcommand)]
        cmd: Option<TokensCmd>,
    },
    /// The cluster's audit log, newest first.
    Events(EventsArgs),
    /// Print a shell completion script: `dployr completions bash > /etc/bash_completion.d/dployr`.
    Completions { shell: clap_complete::Shell },
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Sign in with this email and a password (asked for, or --password-stdin); without it and
    /// without --token, the CLI asks.
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from stdin (one line) instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
    /// The code from your authenticator app (or a backup code) when your account has two-factor
    /// sign-in on; without it, the CLI asks.
    #[arg(long, value_name = "CODE")]
    pub otp: Option<String>,
    /// In CI: exchange the job's OIDC identity token (GitHub Actions, or GitLab's
    /// DPLOYR_ID_TOKEN / CI_JOB_JWT_V2) for a token lasting at most an hour.
    #[arg(long, conflicts_with_all = ["email", "password_stdin", "otp"])]
    pub oidc: bool,
    /// With --oidc: the audience to ask GitHub for (default: Base's URL).
    #[arg(long, requires = "oidc")]
    pub audience: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ShowCmd {
    List,
    Show { id: Option<String> },
}

#[derive(Subcommand, Debug)]
pub enum InstancesCmd {
    List,
    Show {
        instance: String,
    },
    /// Register a server and print the command that installs dployrd on it.
    Add {
        name: String,
    },
    /// Remove a server (its agent is disconnected and cannot come back).
    Remove {
        instance: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ServicesCmd {
    List,
    Show {
        service: Option<String>,
    },
    /// Create a service from a git repository or a Docker image.
    Create(Box<CreateServiceArgs>),
    /// Change a service's settings: only the options given change, and an empty value
    /// (`--start-command ''`) clears one back to its default. Deploy to apply them.
    Update(Box<UpdateServiceArgs>),
    /// Delete a service, its releases and logs.
    Delete {
        service: String,
        /// Required: the service's name again.
        #[arg(long)]
        confirm: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct CreateServiceArgs {
    pub name: String,
    /// The instance (id or name) that runs it; the only one by default.
    #[arg(long)]
    pub instance: Option<String>,
    /// A git repository URL.
    #[arg(long, conflicts_with = "image", required_unless_present = "image")]
    pub git: Option<String>,
    #[arg(long, default_value = "main", requires = "git")]
    pub branch: String,
    /// The app's folder in the repository (a monorepo's apps/api); the top by default.
    #[arg(long, requires = "git")]
    pub root_dir: Option<String>,
    /// A Docker image, e.g. nginx:1.27.
    #[arg(long)]
    pub image: Option<String>,
    /// node, python, go, php, ruby, dotnet, java, static or docker; detected when absent.
    #[arg(long)]
    pub runtime: Option<String>,
    /// web, worker or static; detected when absent (a Procfile with only a worker: line makes
    /// a worker).
    #[arg(long)]
    pub kind: Option<String>,
    /// The language version wanted: 20, 3.12, >=18 <21; what the repository asks for when absent.
    #[arg(long, requires = "git")]
    pub runtime_version: Option<String>,
    #[arg(long)]
    pub build_command: Option<String>,
    #[arg(long)]
    pub start_command: Option<String>,
    #[arg(long)]
    pub port: Option<u16>,
    /// A domain routed to it (repeatable).
    #[arg(long = "domain")]
    pub domains: Vec<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `dployr services update`: every option is one setting; absent ones stay as they are and an
/// empty value clears the setting.
#[derive(Args, Debug, Default)]
pub struct UpdateServiceArgs {
    /// The service (id or name).
    pub service: String,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// Deploy from this git repository (keeps the branch unless --branch says otherwise).
    #[arg(long, conflicts_with = "image")]
    pub git: Option<String>,
    /// The branch to deploy (git services).
    #[arg(long, conflicts_with = "image")]
    pub branch: Option<String>,
    /// Run this Docker image instead.
    #[arg(long)]
    pub image: Option<String>,
    /// The app's folder in the repository; '' for the top.
    #[arg(long)]
    pub root_dir: Option<String>,
    /// node, python, go, php, ruby, dotnet, java, static or docker; '' to detect.
    #[arg(long)]
    pub runtime: Option<String>,
    /// web, worker or static; '' to detect.
    #[arg(long)]
    pub kind: Option<String>,
    /// 20, 3.12, >=18 <21; '' for what the repository asks for.
    #[arg(long)]
    pub runtime_version: Option<String>,
    /// '' for the runtime's default.
    #[arg(long)]
    pub build_command: Option<String>,
    /// '' for the runtime's default.
    #[arg(long)]
    pub start_command: Option<String>,
    /// The port an image listens on; '' for the default.
    #[arg(long)]
    pub port: Option<String>,
    /// The domains routed to it, replacing the current ones (repeatable; --domain '' for none).
    #[arg(long = "domain")]
    pub domains: Option<Vec<String>>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct DeployArgs {
    /// Service id or name; else `service` in ./dployr.toml, else DPLOYR_SERVICE.
    pub service: Option<String>,
    /// A branch, tag or commit to deploy instead of the service's branch.
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// Stream the build log and wait until the deploy is live (exit 0) or failed (exit 1).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (e.g. 90s, 15m, 1h) before exiting with code 4.
    #[arg(long, default_value = "15m", value_parser = crate::duration::parse)]
    pub timeout: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    pub service: Option<String>,
    /// Keep printing new lines as they come.
    #[arg(short, long)]
    pub follow: bool,
    /// Only lines newer than this: a duration (10m, 2h) or a line number (seq) to resume after.
    #[arg(long)]
    pub since: Option<String>,
    /// Only this deployment's lines.
    #[arg(long)]
    pub deployment: Option<String>,
    /// How many stored lines to print first.
    #[arg(short = 'n', long, default_value_t = 200)]
    pub lines: u32,
}

#[derive(Subcommand, Debug)]
pub enum EnvCmd {
    /// Variables with their values; secrets as `(secret)`.
    List {
        service: Option<String>,
    },
    /// Set KEY to VALUE; `-` reads the value from stdin (keeps it out of shell history).
    Set {
        service: String,
        key: String,
        value: String,
        /// Store it write-only: no one can read it back.
        #[arg(long)]
        secret: bool,
    },
    Unset {
        service: String,
        key: String,
    },
    /// Import a .env file (`-` for stdin).
    Import {
        service: String,
        file: String,
        /// Store every imported variable as a secret.
        #[arg(long)]
        secret: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokensCmd {
    List,
    /// Create a token; it is printed this once.
    Create {
        name: String,
        /// owner, admin, member or guest (at most your own role).
        #[arg(long, default_value = "member")]
        role: String,
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    Revoke {
        token: String,
    },
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Only this action (e.g. deployment.create).
    #[arg(long)]
    pub action: Option<String>,
    #[arg(short = 'n', long, default_value_t = 50)]
    pub limit: u32,
}

#[cfg(test)]
mod tests;
