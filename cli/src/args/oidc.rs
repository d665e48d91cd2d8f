//! `dployr oidc …`: the arguments of a cluster's CI OIDC bindings (apart from `args.rs`, which
//! holds the rest of the command line).

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum OidcCmd {
    /// Which CI issuers and repositories may act in the cluster, with which role.
    Bindings {
        #[command(subcommand)]
        cmd: BindingsCmd,
    },
}

#[derive(Subcommand, Debug)]
pub enum BindingsCmd {
    /// The cluster's bindings.
    List,
    /// Trust a repository's CI jobs: `--provider github --repository acme/shop --ref
    /// refs/heads/main`.
    Add {
        /// github or gitlab.
        #[arg(long)]
        provider: String,
        /// `owner/name` (GitHub `repository`, GitLab `project_path`).
        #[arg(long)]
        repository: String,
        /// Only jobs of this ref (`refs/heads/main` on GitHub, `main` on GitLab).
        #[arg(long = "ref")]
        git_ref: Option<String>,
        /// Only jobs of this deployment environment.
        #[arg(long)]
        environment: Option<String>,
        /// The issuer (default: GitHub's or gitlab.com's).
        #[arg(long)]
        issuer: Option<String>,
        /// The audience the token must carry (default: Base's URL).
        #[arg(long)]
        audience: Option<String>,
        /// admin, member or guest.
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// Stop trusting a binding (its id).
    Remove { binding: String },
}
