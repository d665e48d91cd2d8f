//! Certificates for a service's default host, `<service>.<instance's ingress domain>`: Base adds
//! that host to the `Command::Domains` it sends, so dployrd orders a certificate for it like
//! for a verified domain, but only when the instance said a public ingress domain and that
//! domain is wildcard-capable: a made-up name under it resolves (`*.apps.example.net` has an
//! address record). Otherwise no CA could reach the host, and every failed order would count
//! against the CA's rate limits. The answer is kept per instance for [`RECHECK`]; the
//! background domain check looks again after that and sends the instance's domains anew when
//! it changed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::Base;
use crate::store::services::ServiceRow;

/// How long a wildcard lookup's answer is trusted.
pub const RECHECK: Duration = Duration::from_secs(10 * 60);

/// Per instance: the ingress domain looked up, whether it has a wildcard, and when (ms).
#[derive(Debug, Default)]
pub struct Wildcards(Mutex<HashMap<String, Seen>>);

#[derive(Debug, Clone)]
struct Seen {
    domain: String,
    wildcard: bool,
    at_ms: i64,
}

impl Seen {
    fn is_fresh(&self, now_ms: i64) -> bool {
        now_ms - self.at_ms < RECHECK.as_millis() as i64
    }
}

impl Wildcards {
    fn fresh(&self, instance_id: &str, domain: &str, now_ms: i64) -> Option<bool> {
        let seen = self.0.lock().expect("wildcards lock is never poisoned");
        seen.get(instance_id)
            .filter(|s| s.domain == domain && s.is_fresh(now_ms))
            .map(|s| s.wildcard)
    }

    /// Records an answer; returns whether it differs from the one before.
    fn note(&self, instance_id: &str, domain: &str, wildcard: bool, now_ms: i64) -> bool {
        let mut seen = self.0.lock().expect("wildcards lock is never poisoned");
        let before = seen.insert(
            instance_id.to_string(),
            Seen {
                domain: domain.to_string(),
                wildcard,
                at_ms: now_ms,
            },
        );
        before.is_some_and(|b| b.domain != domain || b.wildcard != wildcard)
    }

    fn stale(&self, now_ms: i64) -> Vec<(String, String)> {
        let seen = self.0.lock().expect("wildcards lock is never poisoned");
        seen.iter()
            .filter(|(_, s)| !s.is_fresh(now_ms))
            .map(|(id, s)| (id.clone(), s.domain.clone()))
            .collect()
    }
}

/// Whether a name nobody created under `domain` resolves to an address: a wildcard record.
async fn has_wildcard(server: Option<std::net::SocketAddr>, domain: &str) -> bool {
    let probe = format!(
        "dployr-wildcard-{}.{domain}.",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let resolver = match super::verify::resolver(server) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "no resolver to look for a wildcard record");
            return false;
        }
    };
    match resolver.lookup_ip(probe).await {
        Ok(found) => found.iter().next().is_some(),
        Err(e) => {
            tracing::debug!(domain, error = %e, "no wildcard record");
            false
        }
    }
}

impl Base {
    /// `svc`'s default host when it may get a certificate: its instance's ingress domain is
    /// public and has a wildcard record.
    pub(crate) async fn certified_default_host(&self, svc: &ServiceRow) -> Option<String> {
        let host = self.pointers(svc).await.default_host?;
        let domain = host.split_once('.')?.1.to_string();
        let now = self.clock.now_ms();
        let wildcard = match self.wildcards.fresh(&svc.instance_id, &domain, now) {
            Some(known) => known,
            None => {
                let found = has_wildcard(self.config.dns_server, &domain).await;
                self.wildcards.note(&svc.instance_id, &domain, found, now);
                found
            }
        };
        wildcard.then_some(host)
    }

    /// Whether `svc`'s instance has a public ingress domain (its default host could get a
    /// certificate, so a new service's domains are worth sending before any were added).
    pub(crate) async fn has_public_default_host(&self, svc: &ServiceRow) -> bool {
        self.pointers(svc).await.default_host.is_some()
    }

    /// Looks again at the wildcards seen longer than [`RECHECK`] ago; an instance whose answer
    /// changed gets its services' domains sent anew (its default hosts gained or lost).
    pub async fn recheck_wildcards(&self) {
        let now = self.clock.now_ms();
        for (instance_id, domain) in self.wildcards.stale(now) {
            let found = has_wildcard(self.config.dns_server, &domain).await;
            if self.wildcards.note(&instance_id, &domain, found, now) {
                tracing::info!(instance.id = %instance_id, domain, wildcard = found, "the ingress domain's wildcard record changed");
                self.send_all_domains(&instance_id).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_trusted_until_it_is_stale_and_a_change_is_noticed() {
        let w = Wildcards::default();
        assert_eq!(w.fresh("ins_a", "apps.example.net", 0), None);
        assert!(
            !w.note("ins_a", "apps.example.net", true, 0),
            "nothing before"
        );
        assert_eq!(w.fresh("ins_a", "apps.example.net", 1_000), Some(true));
        assert_eq!(w.fresh("ins_a", "other.example.net", 1_000), None);
        let later = RECHECK.as_millis() as i64;
        assert_eq!(w.fresh("ins_a", "apps.example.net", later), None);
        assert_eq!(
            w.stale(later),
            vec![("ins_a".into(), "apps.example.net".into())]
        );
        assert!(!w.note("ins_a", "apps.example.net", true, later));
        assert!(w.note("ins_a", "apps.example.net", false, later));
        assert!(w.stale(later).is_empty());
    }
}
