//! The commands, one module per group, and what they share: [`Ctx`] (the API client, the output
//! style and the cluster) and the lookups that turn names into ids.
//!
//! - [`auth`]: login, logout, whoami.
//! - [`resources`]: clusters, instances, services.
//! - [`update`]: `services update`, a PATCH of the settings given.
//! - [`deploy`]: deploy (and wait), deployments, cancel, rollback, restart, stop, start.
//! - [`logs`]: stored and followed log lines.
//! - [`metrics`]: a service's or an instance's stored metrics as a table.
//! - [`env`]: variables and secrets.
//! - [`domains`]: custom domains: add, verify, list, remove.
//! - [`notifications`]: the cluster's alert channels: list, add, remove, test, deliveries.
//! - [`admin`]: tokens and the audit log.
//! - [`oidc`]: `login --oidc` in CI, and the cluster's OIDC bindings.

mod admin;
mod auth;
mod deploy;
mod domains;
mod env;
mod logs;
mod metrics;
mod notifications;
mod oidc;
mod resources;
mod update;

use std::path::PathBuf;

use proto::api::{ClusterSummary, Instance, MeResponse, Service};
use serde_json::Value;

use crate::args::{Cli, Command};
use crate::client::Api;
use crate::config::{self, ConfigFile};
use crate::error::{CliError, Kind, Result};
use crate::output::Out;

pub struct Ctx {
    pub api: Api,
    pub out: Out,
    cluster_arg: Option<String>,
    /// The cluster saved with the token, used only when the token is the saved one too.
    saved_cluster: Option<String>,
    pub config_path: PathBuf,
}

pub async fn run(cli: Cli, out: Out) -> Result<()> {
    let config_path = config::default_path()?;
    let file = ConfigFile::load(&config_path)?;
    if let Command::Login(args) = cli.command {
        if args.oidc {
            return oidc::login(args, cli.url, cli.cluster, file, config_path, out).await;
        }
        return auth::login(
            args,
            cli.url,
            cli.token,
            cli.cluster,
            file,
            config_path,
            out,
        )
        .await;
    }
    let not_signed_in = || {
        CliError::new(Kind::Auth, "not signed in to a Base")
            .hint("run `dployr login`, or set DPLOYR_URL and DPLOYR_TOKEN (in CI)")
    };
    let url = cli.url.or(file.url.clone()).ok_or_else(not_signed_in)?;
    let token_is_saved = cli.token.is_none();
    let token = cli.token.or(file.token.clone()).ok_or_else(not_signed_in)?;
    let ctx = Ctx {
        api: Api::new(&url, Some(token))?,
        out,
        cluster_arg: cli.cluster,
        saved_cluster: file.cluster.clone().filter(|_| token_is_saved),
        config_path,
    };
    match cli.command {
        Command::Login(_) | Command::Completions { .. } => Ok(()),
        Command::Logout => auth::logout(&ctx, file).await,
        Command::Whoami => auth::whoami(&ctx).await,
        Command::Clusters { cmd } => resources::clusters(&ctx, cmd).await,
        Command::Instances { cmd } => resources::instances(&ctx, cmd).await,
        Command::Services { cmd } => resources::services(&ctx, cmd).await,
        Command::Deploy(args) => deploy::deploy(&ctx, args).await,
        Command::Deployments { service } => deploy::list(&ctx, service).await,
        Command::Cancel { deployment } => deploy::cancel(&ctx, &deployment).await,
        Command::Rollback { service, to } => deploy::rollback(&ctx, service, to).await,
        Command::Restart { service } => deploy::action(&ctx, service, "restart").await,
        Command::Stop { service } => deploy::action(&ctx, service, "stop").await,
        Command::Start { service } => deploy::action(&ctx, service, "start").await,
        Command::Logs(args) => logs::logs(&ctx, args).await,
        Command::Metrics(args) => metrics::metrics(&ctx, args).await,
        Command::Env { cmd } => env::env(&ctx, cmd).await,
        Command::Domains { cmd } => domains::domains(&ctx, cmd).await,
        Command::Notifications { cmd } => notifications::notifications(&ctx, cmd).await,
        Command::Oidc { cmd } => oidc::bindings(&ctx, cmd).await,
        Command::Tokens { cmd } => admin::tokens(&ctx, cmd).await,
        Command::Events(args) => admin::events(&ctx, args).await,
    }
}

impl Ctx {
    /// The cluster to act in: `--cluster` (id or name), the saved one, or the only one the
    /// token can see.
    pub async fn cluster(&self) -> Result<String> {
        if let Some(arg) = &self.cluster_arg {
            if arg.starts_with("cl_") {
                return Ok(arg.clone());
            }
            let all = self.clusters().await?;
            return all
                .iter()
                .find(|c| c.name == *arg)
                .map(|c| c.id.clone())
                .ok_or_else(|| {
                    CliError::usage(format!("no cluster named {arg:?}"))
                        .hint(format!("yours: {}", names(&all)))
                });
        }
        if let Some(saved) = &self.saved_cluster {
            return Ok(saved.clone());
        }
        let all = self.clusters().await?;
        match all.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(CliError::usage("you are not a member of any cluster")),
            _ => Err(
                CliError::usage("you are in several clusters: say which one").hint(format!(
                    "--cluster NAME or DPLOYR_CLUSTER; yours: {}",
                    names(&all)
                )),
            ),
        }
    }

    pub async fn clusters(&self) -> Result<Vec<ClusterSummary>> {
        let me: MeResponse = self.api.get("/me").await?;
        Ok(me.clusters)
    }

    /// A service by id (`svc_…`) or name; without one, `service` in ./dployr.toml, then
    /// `DPLOYR_SERVICE`.
    pub async fn service(&self, arg: Option<String>) -> Result<Service> {
        let wanted = match arg.or_else(service_from_repo).or_else(|| {
            std::env::var("DPLOYR_SERVICE")
                .ok()
                .filter(|s| !s.is_empty())
        }) {
            Some(s) => s,
            None => {
                return Err(CliError::usage("which service?").hint(
                    "name it (`dployr deploy api`), or set `service = \"api\"` in ./dployr.toml",
                ));
            }
        };
        if wanted.starts_with("svc_") {
            return self.api.get(&format!("/services/{wanted}")).await;
        }
        let cluster = self.cluster().await?;
        let all = self.services_of(&cluster).await?;
        let names: Vec<&str> = all.iter().map(|s| s.spec.name.as_str()).collect();
        let hint = if names.is_empty() {
            "this cluster has no services yet: `dployr services create`".to_string()
        } else {
            format!("services here: {}", names.join(", "))
        };
        all.iter()
            .find(|s| s.spec.name == wanted)
            .cloned()
            .ok_or_else(|| CliError::usage(format!("no service named {wanted:?}")).hint(hint))
    }

    pub async fn instances_of(&self, cluster: &str) -> Result<Vec<Instance>> {
        self.all_in(cluster, "instances").await
    }

    pub async fn services_of(&self, cluster: &str) -> Result<Vec<Service>> {
        self.all_in(cluster, "services").await
    }

    /// Every page of one of a cluster's lists (`instances`, `services`), as the API's types.
    async fn all_in<T: serde::de::DeserializeOwned>(
        &self,
        cluster: &str,
        list: &str,
    ) -> Result<Vec<T>> {
        typed(
            self.api
                .list_all(&format!("/clusters/{cluster}/{list}"), list)
                .await?,
        )
    }
}

/// An enum's wire name (`"running"`), as Base sends it: what tables show.
pub fn wire_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Items of a list as the API's types.
pub fn typed<T: serde::de::DeserializeOwned>(items: Vec<Value>) -> Result<Vec<T>> {
    items
        .into_iter()
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| CliError::other(format!("unexpected answer: {e}")))
        })
        .collect()
}

fn names(all: &[ClusterSummary]) -> String {
    all.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `service = "…"` in ./dployr.toml (the repository's service config), if there is one.
fn service_from_repo() -> Option<String> {
    let text = std::fs::read_to_string("dployr.toml").ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    table.get("service")?.as_str().map(str::to_string)
}

/// One line from stdin, without its newline (for `--password-stdin` and `env set KEY -`).
pub fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
