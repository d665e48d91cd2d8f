//! Which address a request comes from when Base sits behind reverse proxies (M2). Only a peer
//! in the trusted list (`--trusted-proxy CIDR`, or loopback with `--trust-proxy`) may speak for
//! someone else through `X-Forwarded-For`, and only the hops that trusted proxies appended
//! count: the client is the rightmost hop that is not itself a trusted proxy. Anything to its
//! left was written by the client and is ignored, so nobody picks their own address for the
//! login throttle or the audit log.

use std::net::IpAddr;
use std::str::FromStr;

/// An address block: `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (ip, bits) = match s.split_once('/') {
            Some((ip, bits)) => (ip, Some(bits)),
            None => (s, None),
        };
        let net: IpAddr = ip
            .parse()
            .map_err(|_| format!("{s:?} is not an address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { net, bits })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => same_prefix(&n.octets(), &a.octets(), self.bits),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

/// The proxies whose `X-Forwarded-For` hops Base believes.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<Cidr>,
}

impl TrustedProxies {
    /// `nets`, plus loopback when `loopback` (the old `--trust-proxy`: a proxy on this host).
    pub fn new(nets: &[Cidr], loopback: bool) -> TrustedProxies {
        let mut nets = nets.to_vec();
        if loopback {
            nets.extend(
                ["127.0.0.0/8", "::1/128"].map(|n| n.parse::<Cidr>().expect("literal CIDR")),
            );
        }
        TrustedProxies { nets }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the peer itself unless it is a trusted proxy, else the rightmost
    /// `X-Forwarded-For` hop (over all such headers, in order) that is not a trusted proxy. A
    /// hop that is not an address ends the walk and is taken as it is: a trusted proxy wrote
    /// it. When every hop is a trusted proxy, the leftmost one.
    pub fn client_ip<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl DoubleEndedIterator<Item = &'a str>,
    ) -> Option<String> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer.to_string());
        }
        let mut client = peer.to_string();
        for hop in forwarded.rev().flat_map(|h| h.rsplit(',')) {
            let hop = hop.trim();
            if hop.is_empty() {
                continue;
            }
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip.to_string(),
                Ok(ip) => return Some(ip.to_string()),
                Err(_) => return Some(hop.to_string()),
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(&["10.0.0.0/8".parse().unwrap()], true)
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies();
        let peer = Some("127.0.0.1".parse().unwrap());
        let got = p.client_ip(peer, ["6.6.6.6, 198.51.100.9, 10.1.2.3"].into_iter());
        assert_eq!(got.as_deref(), Some("198.51.100.9"));
        let two_headers = p.client_ip(peer, ["6.6.6.6", "198.51.100.9"].into_iter());
        assert_eq!(two_headers.as_deref(), Some("198.51.100.9"));
    }

    #[test]
    fn an_untrusted_peer_speaks_only_for_itself() {
        let p = proxies();
        let peer = Some("203.0.113.5".parse().unwrap());
        assert_eq!(
            p.client_ip(peer, ["1.2.3.4"].into_iter()).as_deref(),
            Some("203.0.113.5")
        );
        let none = TrustedProxies::default();
        let local = Some("127.0.0.1".parse().unwrap());
        assert_eq!(
            none.client_ip(local, ["1.2.3.4"].into_iter()).as_deref(),
            Some("127.0.0.1")
        );
    }

    #[test]
    fn blocks_parse_and_match() {
        let c: Cidr = "192.168.4.0/22".parse().unwrap();
        assert!(c.contains("192.168.7.255".parse().unwrap()));
        assert!(!c.contains("192.168.8.0".parse().unwrap()));
        assert!(c.contains("::ffff:192.168.5.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let one: Cidr = "2001:db8::1".parse().unwrap();
        assert!(one.contains("2001:db8::1".parse().unwrap()));
        assert!(!one.contains("2001:db8::2".parse().unwrap()));
    }
}
