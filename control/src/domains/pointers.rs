//! Where a domain's DNS should point, shown beside the TXT proof as the records to create: A or
//! AAAA to the address the instance's agent connects from (when Base has seen one that is not
//! loopback), and, for a subdomain, a CNAME to the service's default host
//! `<service>.<instance's ingress domain>` when the instance said its ingress domain
//! (`dployrd run --ingress-domain`) and that is a public name.

use std::net::IpAddr;

use proto::api::DnsRecord;
use proto::wire::HostFacts;

use crate::Base;
use crate::store::instances as instances_sql;
use crate::store::services::ServiceRow;

/// What a service's domains may point at.
#[derive(Debug, Default)]
pub(crate) struct Pointers {
    addresses: Vec<IpAddr>,
    pub(super) default_host: Option<String>,
}

impl Pointers {
    /// The records that point `name` at the service (none when Base knows nothing yet).
    pub(crate) fn records(&self, name: &str) -> Vec<DnsRecord> {
        let mut records: Vec<DnsRecord> = self
            .addresses
            .iter()
            .map(|ip| DnsRecord {
                kind: if ip.is_ipv4() { "A" } else { "AAAA" }.into(),
                name: name.to_string(),
                value: ip.to_string(),
                purpose: "points the domain at the service's instance".into(),
            })
            .collect();
        // A CNAME cannot sit at a zone's apex (`example.com`), only on a subdomain.
        let subdomain = name.trim_start_matches("*.").matches('.').count() >= 2;
        if let Some(host) = self.default_host.as_ref().filter(|_| subdomain) {
            records.push(DnsRecord {
                kind: "CNAME".into(),
                name: name.to_string(),
                value: host.clone(),
                purpose:
                    "or, instead of A/AAAA, points the subdomain at the service's default host"
                        .into(),
            });
        }
        records
    }
}

/// Whether `domain` can be resolved on the internet: a dotted name outside the reserved and
/// local-only top-level names.
fn is_public(domain: &str) -> bool {
    const LOCAL: &[&str] = &[
        "localhost",
        "test",
        "local",
        "internal",
        "invalid",
        "example",
        "lan",
        "home",
    ];
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    match d.rsplit_once('.') {
        Some((_, tld)) => !LOCAL.contains(&tld),
        None => false,
    }
}

impl Base {
    /// What `svc`'s domains may point at: its instance's address and default host.
    pub(crate) async fn pointers(&self, svc: &ServiceRow) -> Pointers {
        let facts = instances_sql::by_id(self.store.pool(), &svc.instance_id)
            .await
            .ok()
            .flatten()
            .and_then(|i| i.host_facts)
            .and_then(|json| serde_json::from_str::<HostFacts>(&json).ok());
        let default_host = facts
            .and_then(|h| h.ingress_domain)
            .filter(|d| is_public(d))
            .map(|d| format!("{}.{}", svc.name, d.trim_end_matches('.')));
        Pointers {
            addresses: self.instance_addresses(&svc.instance_id),
            default_host,
        }
    }

    /// The public addresses Base knows the service's instance by (where its agent connects
    /// from), for A/AAAA records. Loopback is left out: it tells the team nothing.
    pub(crate) fn instance_addresses(&self, instance_id: &str) -> Vec<IpAddr> {
        let known = self
            .instance_addrs
            .lock()
            .expect("addresses lock is never poisoned");
        known
            .get(instance_id)
            .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
            .map(|ip| vec![*ip])
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_ingress_domains_give_a_cname_and_only_on_subdomains() {
        assert!(is_public("apps.example.com"));
        assert!(is_public("Apps.Example.Net."));
        for local in [
            "localhost",
            "test",
            "web.test",
            "box.local",
            "x.internal",
            "example",
        ] {
            assert!(!is_public(local), "{local}");
        }
        let to = Pointers {
            addresses: vec!["203.0.113.7".parse().unwrap()],
            default_host: Some("shop.apps.example.net".into()),
        };
        let kinds = |name: &str| -> Vec<(String, String)> {
            to.records(name)
                .into_iter()
                .map(|r| (r.kind, r.value))
                .collect()
        };
        assert_eq!(
            kinds("www.shop.com"),
            [
                ("A".into(), "203.0.113.7".into()),
                ("CNAME".into(), "shop.apps.example.net".into())
            ]
        );
        assert_eq!(kinds("shop.com"), [("A".into(), "203.0.113.7".into())]);
        assert!(Pointers::default().records("www.shop.com").is_empty());
    }
}
