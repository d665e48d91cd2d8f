//! `dployr metrics …`: the arguments of a service's or an instance's metrics (apart from
//! `args.rs`, which holds the rest of the command line).

use clap::Args;

#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// The service (id or name); leave it out with --instance.
    #[arg(required_unless_present = "instance", conflicts_with = "instance")]
    pub service: Option<String>,
    /// An instance (id or name) instead of a service: its host's figures.
    #[arg(long)]
    pub instance: Option<String>,
    /// How far back: 30m, 6h, 7d (up to 90d).
    #[arg(long, default_value = "1h", value_parser = crate::duration::parse)]
    pub since: std::time::Duration,
    /// The spacing of the rows printed, e.g. 1m or 1h (default: the finest Base keeps).
    #[arg(long, value_parser = crate::duration::parse)]
    pub step: Option<std::time::Duration>,
}
