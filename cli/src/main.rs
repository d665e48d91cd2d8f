//! `dployr`, the command line for people and CI. Only `--version` exists until the CLI issue.

use clap::Parser;

/// Deploy and manage services on your dployr Base.
#[derive(Parser, Debug)]
#[command(name = "dployr", version)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!(
        "dployr {}: no commands yet; see `dployr --help`",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
