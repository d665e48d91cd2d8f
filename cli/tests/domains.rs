//! `dployr domains add|list|verify|remove` against a real Base (with its local dployrd) whose
//! domain checks ask a DNS server of the test's own: the records to create are printed, a
//! Verify before the TXT record exists says why it is still pending, with the record it is
//! verified, and `--json` gives the API's objects.
//!
//! Needs `dployr-server` and `dployrd` built beside `dployr`, like `cli.rs`.

// Shared with `cli.rs`, which uses what this test does not.
#[allow(dead_code, unused_imports)]
mod support;

use serde_json::Value;
use support::{Base, dployr};
use testkit::dns::DnsServer;

#[test]
fn domains_add_verify_list_remove() {
    let dns = DnsServer::start();
    let addr = dns.addr().to_string();
    let base = Base::start_with(&[("DPLOYR_DNS_SERVER", &addr)]);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("dployr").join("config.toml");
    let cli = |args: &[&str]| dployr(&config, &[], args, None);
    let instance = support::login_with_local_instance(&base, &config);
    let r = cli(&[
        "services",
        "create",
        "shop",
        "--instance",
        &instance,
        "--git",
        "https://example.com/shop.git",
    ]);
    assert_eq!(r.code, 0, "{r:?}");

    let r = cli(&["domains", "add", "shop", "Shop.Example.com"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Added shop.example.com to shop (pending)"),
        "{}",
        r.stdout
    );
    let txt_line = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("TXT"))
        .unwrap_or_else(|| panic!("no TXT record printed: {}", r.stdout));
    let value = txt_line.split_whitespace().last().unwrap().to_string();
    assert!(txt_line.contains("_dployr.shop.example.com") && value.starts_with("dployr-verify="));

    let r = cli(&["domains", "verify", "shop", "shop.example.com"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("still pending: no TXT record"),
        "{}",
        r.stdout
    );

    dns.set_txt("_dployr.shop.example.com", &value);
    let r = cli(&["domains", "verify", "shop", "shop.example.com"]);
    assert!(r.stdout.contains("shop.example.com is verified"), "{r:?}");

    let r = cli(&["domains", "list", "shop", "--json"]);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list["domains"][0]["status"], "verified");

    // The same name again is a conflict, with Base's reason and a non-zero exit.
    let r = cli(&["domains", "add", "shop", "shop.example.com"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("already a domain of this service"),
        "{r:?}"
    );

    let r = cli(&["domains", "remove", "shop", "shop.example.com"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli(&["domains", "list", "shop"]);
    assert!(!r.stdout.contains("shop.example.com"), "{}", r.stdout);
}
