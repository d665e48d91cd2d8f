//! `dployr`, the command line for people and CI: sign in, list, deploy and wait, stream logs,
//! manage variables, tokens and the audit log. It talks only to Base's REST API (`/api/v1`).
//!
//! - [`args`]: the command line (clap).
//! - [`config`]: the saved login (`~/.config/dployr/config.toml`, 0600).
//! - [`client`]: HTTP, Base's errors as exit codes.
//! - [`output`]: tables, colours, JSON, spinners.
//! - [`cmd`]: one module per group of commands.
//! - [`error`], [`duration`]: exit codes; `15m`-style durations.

mod args;
mod client;
mod cmd;
mod config;
mod duration;
mod error;
mod output;

use clap::{CommandFactory, Parser};

use args::{Cli, Command};
use error::CliError;
use output::{Out, Paint};

fn main() {
    let cli = Cli::parse();
    let out = Out::new(cli.json);
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "dployr", &mut std::io::stdout());
        return;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(&out, CliError::other(format!("cannot start: {e}"))),
    };
    if let Err(e) = runtime.block_on(cmd::run(cli, out)) {
        fail(&out, e);
    }
}

/// Prints the error (and what to do next) on stderr, as JSON too with `--json`, and exits with
/// its code.
fn fail(out: &Out, e: CliError) -> ! {
    if out.json {
        let body = serde_json::json!({
            "error": { "message": e.message, "hint": e.hint, "exit_code": e.kind.exit_code() }
        });
        eprintln!("{body}");
    } else {
        eprintln!("{} {}", out.paint_err("error:", Paint::Red), e.message);
        if let Some(hint) = &e.hint {
            eprintln!("{} {hint}", out.paint_err("hint:", Paint::Dim));
        }
    }
    std::process::exit(e.kind.exit_code());
}
