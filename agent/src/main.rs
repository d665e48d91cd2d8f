//! dployrd, the agent on each server. For now it only reports its version and the tunnel
//! protocol it speaks; enrollment and the tunnel arrive with the agent issue.

use clap::Parser;

/// The dployr agent: dials out to Base and runs your services.
#[derive(Parser, Debug)]
#[command(name = "dployrd", version = concat!(env!("CARGO_PKG_VERSION"), " (protocol ", "1", ")"))]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    debug_assert_eq!(
        proto::wire::PROTOCOL_VERSION,
        1,
        "update the version string above"
    );
    eprintln!(
        "dployrd {}: enrollment is not implemented yet",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
