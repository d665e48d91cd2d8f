//! L1: a bound on gateway connections that have not yet proven who they are. Anyone who can
//! reach the gateway port may start a TLS and WebSocket handshake, so until the first message
//! has passed (an `Enroll` answered, a `Hello` from a pinned certificate) a connection holds an
//! [`Admission`]: at most [`MAX_PENDING`] of them at a time, [`MAX_PENDING_PER_IP`] per address.
//! A connection over either cap is dropped at accept, before TLS.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Connections in their handshake at once, over all addresses.
pub const MAX_PENDING: usize = 256;
/// Connections in their handshake at once from one address.
pub const MAX_PENDING_PER_IP: usize = 16;

/// The count of handshakes in progress, overall and per address.
#[derive(Debug)]
pub struct PreAuth {
    max: usize,
    per_ip: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One connection's place among the handshakes in progress; given back when dropped.
#[derive(Debug)]
pub struct Admission {
    gate: Arc<PreAuth>,
    ip: IpAddr,
}

impl PreAuth {
    pub fn new(max: usize, per_ip: usize) -> Arc<PreAuth> {
        Arc::new(PreAuth {
            max,
            per_ip,
            open: Mutex::default(),
        })
    }

    /// A place for a new connection from `ip`, or `None` when either cap is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        let mut open = self.open.lock().expect("pre-auth lock poisoned");
        let (total, by_ip) = &mut *open;
        let mine = by_ip.get(&ip).copied().unwrap_or(0);
        if *total >= self.max || mine >= self.per_ip {
            return None;
        }
        *total += 1;
        by_ip.insert(ip, mine + 1);
        Some(Admission {
            gate: self.clone(),
            ip,
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().expect("pre-auth lock poisoned");
        let (total, by_ip) = &mut *open;
        *total = total.saturating_sub(1);
        if let Some(n) = by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l1_handshakes_in_progress_are_capped_per_address_and_overall() {
        let gate = PreAuth::new(3, 2);
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        let a1 = gate.admit(a).expect("first from a");
        let _a2 = gate.admit(a).expect("second from a");
        assert!(gate.admit(a).is_none(), "a third from one address waits");
        let _b1 = gate.admit(b).expect("another address");
        assert!(gate.admit(b).is_none(), "the overall cap is reached");
        drop(a1);
        assert!(
            gate.admit(a).is_some(),
            "a finished handshake gives its place back"
        );
    }
}
