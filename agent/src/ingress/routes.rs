//! The route table: which upstream (a release listening on 127.0.0.1:<port>) answers which
//! `Host`. Every request reads it once and deploys rewrite it, so it is a copy-on-write snapshot:
//! a reader takes the read lock only to clone an `Arc` (nanoseconds, no allocation), and a writer
//! builds a new table beside the old one and swaps the pointer. Writes are rare (one per deploy)
//! so copying the table is cheap, and no new dependency (arc-swap) is needed for it. A request
//! that already resolved its upstream keeps it, whatever swaps happen after: that is what lets a
//! deploy drain the old release instead of cutting it off. Each ingress worker reads through a
//! [`WorkerRoutes`], which keeps the snapshot it last saw and takes the lock only when a version
//! counter says the table changed, so requests on different cores share no written memory.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use http::uri::Authority;

/// A host name that cannot be routed: not a valid `Host` header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid host name: {0:?}")]
pub struct InvalidHost(pub String);

/// The shared route table. Clones share one table.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    table: Arc<RwLock<Arc<Table>>>,
    /// Bumped after every swap, under the write lock.
    version: Arc<AtomicU64>,
}

#[derive(Debug, Clone, Default)]
struct Table {
    /// Normalised host -> who serves it.
    hosts: HashMap<String, Route>,
    /// Service id -> the hosts it currently owns, so `set` and `remove` can drop them.
    services: HashMap<String, Vec<String>>,
    /// Services whose HTTPS answers carry `Strict-Transport-Security`; kept across `set` and
    /// `remove` (it is the service's setting, not its release's).
    hsts: HashSet<String>,
}

/// Where a host leads, as one request sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub upstream: SocketAddr,
    /// The service asked for HSTS on its HTTPS answers.
    pub hsts: bool,
}

#[derive(Debug, Clone)]
struct Route {
    service: String,
    upstream: SocketAddr,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `hosts` of `service` to `upstream`, replacing whatever that service had before in
    /// one step: a request sees either the whole old route or the whole new one. Hosts are
    /// matched without case, port or trailing dot. A host another service had moves to this one
    /// (Base decides who owns a host; the agent applies the latest word and logs the move). If
    /// any host is invalid nothing changes.
    pub fn set(
        &self,
        service: impl Into<String>,
        hosts: Vec<String>,
        upstream: SocketAddr,
    ) -> Result<(), InvalidHost> {
        let service = service.into();
        let mut hosts = hosts
            .iter()
            .map(|h| normalize(h).ok_or_else(|| InvalidHost(h.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        hosts.sort();
        hosts.dedup();

        self.update(|table| {
            table.drop_service(&service);
            for host in &hosts {
                let route = Route {
                    service: service.clone(),
                    upstream,
                };
                if let Some(old) = table.hosts.insert(host.clone(), route)
                    && old.service != service
                {
                    tracing::warn!(
                        host,
                        from = old.service,
                        to = service,
                        "host changes service"
                    );
                    if let Some(owned) = table.services.get_mut(&old.service) {
                        owned.retain(|h| h != host);
                    }
                }
            }
            table.services.insert(service.clone(), hosts.clone());
        });
        Ok(())
    }

    /// Removes every route of `service`. Returns whether it had any.
    pub fn remove(&self, service: &str) -> bool {
        let mut had = false;
        self.update(|table| had = table.drop_service(service));
        had
    }

    /// Where `service`'s hosts lead now, if it has any.
    pub fn upstream_of(&self, service: &str) -> Option<SocketAddr> {
        let table = self.snapshot();
        let host = table.services.get(service)?.first()?;
        table.hosts.get(host).map(|r| r.upstream)
    }

    /// The upstream for a `Host` header value (any case, with or without port).
    pub fn upstream_for(&self, host: &str) -> Option<SocketAddr> {
        self.target_for(host).map(|t| t.upstream)
    }

    /// The upstream for a `Host` header value and how to answer for its service.
    pub fn target_for(&self, host: &str) -> Option<Target> {
        self.snapshot().target_for(host)
    }

    /// Whether `service`'s HTTPS answers carry `Strict-Transport-Security`, from now on.
    pub fn set_hsts(&self, service: &str, on: bool) {
        self.update(|table| {
            if on {
                table.hsts.insert(service.to_owned());
            } else {
                table.hsts.remove(service);
            }
        });
    }

    fn snapshot(&self) -> Arc<Table> {
        // A panic while holding the lock cannot leave a half-written table: writers only swap
        // in a finished one, so a poisoned lock still holds a consistent snapshot.
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Copy, change, swap. The write lock is held throughout so two concurrent writers cannot
    /// lose each other's change; readers are only ever blocked for the pointer swap.
    fn update(&self, change: impl FnOnce(&mut Table)) {
        let mut current = self.table.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = Table::clone(&current);
        change(&mut next);
        *current = Arc::new(next);
        self.version.fetch_add(1, Ordering::Release);
    }
}

/// One ingress worker's reader of [`Routes`]. A request that starts after a change returned
/// sees it: the change bumps the version before it returns, and the version is read first.
pub(crate) struct WorkerRoutes {
    routes: Routes,
    seen: Mutex<(u64, Arc<Table>)>,
}

impl WorkerRoutes {
    pub(crate) fn new(routes: Routes) -> Self {
        let seen = (routes.version.load(Ordering::Acquire), routes.snapshot());
        Self {
            routes,
            seen: Mutex::new(seen),
        }
    }

    pub(crate) fn target_for(&self, host: &str) -> Option<Target> {
        let version = self.routes.version.load(Ordering::Acquire);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.0 != version {
            *seen = (version, self.routes.snapshot());
        }
        seen.1.target_for(host)
    }
}

impl Table {
    fn target_for(&self, host: &str) -> Option<Target> {
        let host = normalized(host)?;
        let route = self.hosts.get(host.as_ref())?;
        Some(Target {
            upstream: route.upstream,
            hsts: self.hsts.contains(&route.service),
        })
    }

    fn drop_service(&mut self, service: &str) -> bool {
        let Some(owned) = self.services.remove(service) else {
            return false;
        };
        for host in owned {
            if self.hosts.get(&host).is_some_and(|r| r.service == service) {
                self.hosts.remove(&host);
            }
        }
        true
    }
}

/// Whether `host` is already what [`normalize`] makes of it (lower case, no port, no trailing
/// dot), as nearly every request's `Host` is.
pub(crate) fn is_normal(host: &str) -> bool {
    !host.is_empty()
        && !host.ends_with('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// [`normalize`], without allocating when `host` [`is_normal`].
pub(crate) fn normalized(host: &str) -> Option<Cow<'_, str>> {
    if is_normal(host) {
        Some(Cow::Borrowed(host))
    } else {
        normalize(host).map(Cow::Owned)
    }
}

/// `App.Example.COM:8080` and `app.example.com.` are both `app.example.com`. `None` for
/// anything that is not a valid authority without user info.
pub(crate) fn normalize(host: &str) -> Option<String> {
    let authority: Authority = host.trim().parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let name = authority.host().trim_end_matches('.');
    if name.is_empty() {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
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
}
