//! Which hosts have a certificate, as the plain-HTTP listener asks on every request (to send
//! them to HTTPS). Each worker keeps the set of names it last saw and reads the store again only
//! when its version says a certificate came or went, so requests on different cores do not all
//! take the store's lock.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::certs::{Certificates, normalize};
use super::routes::is_normal;

/// One worker's view of the names [`Certificates`] serves.
pub(crate) struct Covered {
    certs: Certificates,
    seen: Mutex<(u64, Arc<HashSet<String>>)>,
}

impl Covered {
    pub(crate) fn new(certs: Certificates) -> Self {
        let seen = (certs.version(), Arc::new(names(&certs)));
        Self {
            certs,
            seen: Mutex::new(seen),
        }
    }

    /// Whether a certificate serves `host` (its own, or a `*.` wildcard one level up): what the
    /// HTTPS listener can answer for. A certificate installed before this is asked counts.
    pub(crate) fn covers(&self, host: &str) -> bool {
        let version = self.certs.version();
        let names = {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if seen.0 != version {
                *seen = (version, Arc::new(names(&self.certs)));
            }
            seen.1.clone()
        };
        covers(&names, host)
    }
}

fn names(certs: &Certificates) -> HashSet<String> {
    certs.domains().into_iter().collect()
}

fn covers(names: &HashSet<String>, host: &str) -> bool {
    // Without allocating when it can be helped: this is asked on every request.
    let host = if is_normal(host) {
        Cow::Borrowed(host)
    } else {
        match normalize(host) {
            Some(host) => Cow::Owned(host),
            None => return false,
        }
    };
    if names.contains(host.as_ref()) {
        return true;
    }
    let Some((_, parent)) = host.split_once('.') else {
        return false;
    };
    let mut wildcard = [0u8; 256];
    let Some(key) = wildcard.get_mut(..parent.len() + 2) else {
        return false;
    };
    key[..2].copy_from_slice(b"*.");
    key[2..].copy_from_slice(parent.as_bytes());
    std::str::from_utf8(key).is_ok_and(|key| names.contains(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingress::certs::tests::self_signed;

    #[test]
    fn covers_means_an_exact_or_one_level_wildcard_certificate_installed_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Certificates::open(dir.path()).unwrap();
        let covered = Covered::new(store.clone());
        assert!(!covered.covers("shop.example.com"));
        let (chain, key) = self_signed(&["*.apps.example.com"]);
        store
            .install("*.apps.example.com", &chain, &key, false)
            .unwrap();
        let (chain, key) = self_signed(&["shop.example.com"]);
        store
            .install("shop.example.com", &chain, &key, false)
            .unwrap();
        assert!(covered.covers("Web.Apps.Example.com"));
        assert!(covered.covers("shop.example.com."));
        assert!(!covered.covers("a.web.apps.example.com"));
        assert!(!covered.covers("apps.example.com"));
        assert!(!covered.covers("example.com"));
        assert!(!covered.covers("not a host"));
        store.remove("shop.example.com").unwrap();
        assert!(!covered.covers("shop.example.com"));
    }
}
