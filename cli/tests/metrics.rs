//! `dployr metrics --instance NAME` against a real Base and its local dployrd: the instance's
//! host figures, sent every 10 s, come back as a table and as the API's JSON; an unknown
//! instance is a usage error.
//!
//! Needs `dployr-server` and `dployrd` built beside `dployr`, like `cli.rs`.

// Shared with `cli.rs`, which uses what this test does not.
#[allow(dead_code, unused_imports)]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Base, dployr};

#[test]
fn instance_metrics_print_as_a_table_and_as_json() {
    let base = Base::start();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("dployr").join("config.toml");
    let cli = |args: &[&str]| dployr(&config, &[], args, None);
    let instance = support::login_with_local_instance(&base, &config);
    let series = support::eventually(Duration::from_secs(60), "a host point", || {
        let r = cli(&[
            "metrics",
            "--instance",
            &instance,
            "--since",
            "10m",
            "--json",
        ]);
        let series: Value = serde_json::from_str(&r.stdout).ok()?;
        (!series["points"].as_array()?.is_empty()).then_some(series)
    });
    assert_eq!(series["step_secs"], 10);
    assert!(
        series["points"][0]["host"]["mem_total_bytes"]
            .as_i64()
            .unwrap()
            > 0
    );

    let r = cli(&["metrics", "--instance", &instance]);
    assert_eq!(r.code, 0, "{r:?}");
    let header = r.stdout.lines().next().unwrap_or_default();
    for column in ["TIME", "CPU", "LOAD", "MEMORY", "DISK"] {
        assert!(header.contains(column), "{column} in {header:?}");
    }
    assert!(r.stdout.lines().count() >= 2, "{}", r.stdout);

    let r = cli(&["metrics", "--instance", "no-such-server"]);
    assert_eq!(r.code, 2, "{r:?}");
}
