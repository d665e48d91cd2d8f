//! `dployr notifications …`: the arguments of a cluster's alert channels (apart from
//! `args.rs`, which holds the rest of the command line).

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum NotificationsCmd {
    /// The cluster's channels, what they are subscribed to and their last delivery.
    List,
    /// Add a channel. A webhook's signing secret is printed this once.
    Add {
        /// A name for people.
        name: String,
        /// webhook, slack, discord or email.
        #[arg(long)]
        kind: String,
        /// The webhook's, Slack's or Discord's URL (Slack's and Discord's are kept write-only).
        /// Not `--url`: that one is Base's.
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// A recipient of an email channel (repeatable).
        #[arg(long = "email")]
        emails: Vec<String>,
        /// An alert kind to send (repeatable, or comma-separated): deploy.failed,
        /// deploy.succeeded, service.unhealthy, service.recovered, service.crash_looping,
        /// instance.offline, instance.online, certificate.failing, disk.high, memory.high.
        #[arg(long = "event", required = true, value_delimiter = ',')]
        events: Vec<String>,
        /// disk.high at or above this percentage (default 90).
        #[arg(long)]
        disk_pct: Option<u8>,
        /// memory.high at or above this percentage (default 90) ...
        #[arg(long)]
        memory_pct: Option<u8>,
        /// ... for this many minutes (default 5).
        #[arg(long)]
        memory_minutes: Option<u32>,
    },
    /// Remove a channel (id or name).
    Remove { channel: String },
    /// Send a test notification now and print what the receiver answered.
    Test { channel: String },
    /// A channel's newest deliveries and their attempts.
    Deliveries { channel: String },
}
