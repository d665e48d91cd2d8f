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

use super::meter::Meters;

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
    /// The ingress workers' request counts (see `meter`), keyed by the slots this table gives.
    meters: Meters,
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
    /// Service id -> its meter slot. Slots are never reused, so counts taken under a slot
    /// always belong to the service named here (a removed service keeps its slot).
    slots: HashMap<String, u32>,
}

/// Where a host leads, as one request sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub upstream: SocketAddr,
    /// The service asked for HSTS on its HTTPS answers.
    pub hsts: bool,
    /// The service's slot in the workers' request counts.
    pub meter: u32,
}

#[derive(Debug, Clone)]
struct Route {
    service: String,
    upstream: SocketAddr,
    meter: u32,
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
            let next = u32::try_from(table.slots.len()).unwrap_or(u32::MAX);
            let meter = *table.slots.entry(service.clone()).or_insert(next);
            for host in &hosts {
                let route = Route {
                    service: service.clone(),
                    upstream,
                    meter,
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

    /// The workers' request counts.
    pub fn meters(&self) -> &Meters {
        &self.meters
    }

    /// Each service's meter slot (every service ever routed by this table).
    pub fn meter_slots(&self) -> HashMap<String, u32> {
        self.snapshot().slots.clone()
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
            meter: route.meter,
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
#[path = "routes_tests.rs"]
mod tests;
