//! The command line's parsing, checked (beside `args.rs` to keep it short).

use super::*;
use clap::CommandFactory;

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn deploy_takes_ref_wait_and_timeout() {
    let cli = Cli::try_parse_from([
        "dployr",
        "deploy",
        "api",
        "--ref",
        "v2",
        "--wait",
        "--timeout",
        "90s",
    ])
    .unwrap();
    let Command::Deploy(d) = cli.command else {
        panic!("not deploy")
    };
    assert_eq!(d.service.as_deref(), Some("api"));
    assert_eq!(d.git_ref.as_deref(), Some("v2"));
    assert!(d.wait);
    assert_eq!(d.timeout.as_secs(), 90);
    assert!(Cli::try_parse_from(["dployr", "deploy", "--timeout", "soon"]).is_err());
}

#[test]
fn services_update_takes_settings_and_empty_values() {
    let cli = Cli::try_parse_from([
        "dployr",
        "services",
        "update",
        "api",
        "--kind",
        "worker",
        "--runtime-version",
        "",
        "--domain",
        "a.example.com",
        "--domain",
        "b.example.com",
    ])
    .unwrap();
    let Command::Services {
        cmd: Some(ServicesCmd::Update(u)),
    } = cli.command
    else {
        panic!("not services update")
    };
    assert_eq!(u.service, "api");
    assert_eq!(u.kind.as_deref(), Some("worker"));
    assert_eq!(u.runtime_version.as_deref(), Some(""));
    assert_eq!(u.start_command, None);
    assert_eq!(
        u.domains.as_deref(),
        Some(&["a.example.com".to_string(), "b.example.com".to_string()][..])
    );
    let both = [
        "dployr", "services", "update", "api", "--git", "u", "--image", "i",
    ];
    assert!(Cli::try_parse_from(both).is_err());
}
