//! `dployr domains …`: the arguments of a service's custom domains (apart from `args.rs`, which
//! holds the rest of the command line).

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum DomainsCmd {
    /// The service's domains: status, certificate, and the DNS records to create.
    List { service: Option<String> },
    /// Add a domain (pending until its TXT record `_dployr.<domain>` is seen).
    Add {
        service: String,
        domain: String,
        /// Send Strict-Transport-Security on HTTPS answers.
        #[arg(long)]
        hsts: bool,
    },
    /// Look the domain's TXT record up now.
    Verify { service: String, domain: String },
    /// Remove a domain; its instance stops routing it.
    Remove { service: String, domain: String },
}
