//! The route table: switches, host moves, normalisation, workers' snapshots and meter slots.

use super::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn hosts_match_without_case_port_or_trailing_dot() {
    let routes = Routes::new();
    routes
        .set("svc", vec!["App.Example.com".into()], addr(1))
        .unwrap();
    for host in [
        "app.example.com",
        "APP.EXAMPLE.COM:8080",
        "app.example.com.",
    ] {
        assert_eq!(routes.upstream_for(host), Some(addr(1)), "{host}");
    }
    assert_eq!(routes.upstream_for("example.com"), None);
}

#[test]
fn normal_hosts_are_borrowed_and_the_rest_normalized_the_same_way() {
    for host in ["app.example.com", "a-1.test", "10.0.0.1", "localhost"] {
        assert!(matches!(normalized(host), Some(Cow::Borrowed(h)) if h == host));
        assert_eq!(normalize(host).as_deref(), Some(host));
    }
    for host in [
        "App.test",
        "app.test:8080",
        "app.test.",
        " app.test",
        "[::1]",
    ] {
        assert!(matches!(normalized(host), Some(Cow::Owned(_))), "{host}");
        assert_eq!(normalized(host).map(Cow::into_owned), normalize(host));
    }
    assert_eq!(normalized(""), None);
}

#[test]
fn a_worker_sees_a_change_made_before_its_request() {
    let routes = Routes::new();
    let worker = WorkerRoutes::new(routes.clone());
    assert_eq!(worker.target_for("a.test"), None);
    routes.set("svc", vec!["a.test".into()], addr(1)).unwrap();
    assert_eq!(worker.target_for("a.test").unwrap().upstream, addr(1));
    routes.set("svc", vec!["a.test".into()], addr(2)).unwrap();
    routes.set_hsts("svc", true);
    let target = worker.target_for("A.test:443").unwrap();
    assert_eq!((target.upstream, target.hsts), (addr(2), true));
    routes.remove("svc");
    assert_eq!(worker.target_for("a.test"), None);
}

#[test]
fn ipv6_literals_keep_their_brackets_and_lose_the_port() {
    assert_eq!(normalize("[::1]:8080").as_deref(), Some("[::1]"));
}

#[test]
fn set_replaces_the_whole_route_of_a_service() {
    let routes = Routes::new();
    routes
        .set("svc", vec!["a.test".into(), "b.test".into()], addr(1))
        .unwrap();
    routes.set("svc", vec!["b.test".into()], addr(2)).unwrap();
    assert_eq!(routes.upstream_for("a.test"), None);
    assert_eq!(routes.upstream_for("b.test"), Some(addr(2)));
}

#[test]
fn invalid_host_changes_nothing() {
    let routes = Routes::new();
    routes.set("svc", vec!["a.test".into()], addr(1)).unwrap();
    let err = routes
        .set("svc", vec!["b.test".into(), "bad host".into()], addr(2))
        .unwrap_err();
    assert_eq!(err, InvalidHost("bad host".into()));
    assert_eq!(routes.upstream_for("a.test"), Some(addr(1)));
    assert_eq!(routes.upstream_for("b.test"), None);
}

#[test]
fn a_host_taken_over_survives_removal_of_its_old_service() {
    let routes = Routes::new();
    routes.set("old", vec!["a.test".into()], addr(1)).unwrap();
    routes.set("new", vec!["a.test".into()], addr(2)).unwrap();
    assert!(routes.remove("old"));
    assert_eq!(routes.upstream_for("a.test"), Some(addr(2)));
    assert!(routes.remove("new"));
    assert_eq!(routes.upstream_for("a.test"), None);
    assert!(!routes.remove("new"));
}

/// A switch is one swap: a reader racing thousands of switches never finds the host
/// missing, which a remove-then-insert would let it do.
#[test]
fn lookups_racing_switches_always_find_a_route() {
    let routes = Routes::new();
    routes.set("svc", vec!["a.test".into()], addr(1)).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut lookups = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                assert!(
                    routes.upstream_for("a.test").is_some(),
                    "route gone mid-switch"
                );
                lookups += 1;
            }
            lookups
        });
        for i in 0..20_000u16 {
            routes
                .set("svc", vec!["a.test".into()], addr(i % 2 + 1))
                .unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
}

#[test]
fn hsts_is_the_services_and_outlives_a_route_switch() {
    let routes = Routes::new();
    routes.set("svc", vec!["a.test".into()], addr(1)).unwrap();
    routes.set("other", vec!["b.test".into()], addr(3)).unwrap();
    assert!(!routes.target_for("a.test").unwrap().hsts);
    routes.set_hsts("svc", true);
    routes.set("svc", vec!["a.test".into()], addr(2)).unwrap();
    let target = routes.target_for("A.test:443").unwrap();
    assert_eq!((target.upstream, target.hsts), (addr(2), true));
    assert!(!routes.target_for("b.test").unwrap().hsts);
    routes.set_hsts("svc", false);
    assert!(!routes.target_for("a.test").unwrap().hsts);
}

#[test]
fn clones_share_one_table() {
    let routes = Routes::new();
    let other = routes.clone();
    other.set("svc", vec!["a.test".into()], addr(1)).unwrap();
    assert_eq!(routes.upstream_for("a.test"), Some(addr(1)));
}

#[test]
fn each_service_keeps_one_meter_slot_across_switches_and_removal() {
    let routes = Routes::new();
    routes.set("a", vec!["a.test".into()], addr(1)).unwrap();
    routes.set("b", vec!["b.test".into()], addr(2)).unwrap();
    let (a, b) = (
        routes.target_for("a.test").unwrap().meter,
        routes.target_for("b.test").unwrap().meter,
    );
    assert_ne!(a, b);
    routes.remove("a");
    routes.set("a", vec!["a2.test".into()], addr(3)).unwrap();
    assert_eq!(routes.target_for("a2.test").unwrap().meter, a);
    let slots = routes.meter_slots();
    assert_eq!((slots["a"], slots["b"]), (a, b));
}
