//! The gateway URLs dployrd dials, in turn. With several Base replicas (issue 20) an agent is
//! given each replica's gateway (`--gateway`, besides the URL it enrolled with) and, when its
//! replica dies, moves to the next at once instead of waiting out a backoff for the dead one;
//! only when every URL has failed in a row does it wait (the caller's backoff), so a fleet does
//! not spin against a Base that is down everywhere. With one URL (or a TCP load balancer in
//! front of the replicas) it behaves as before: every failure waits.

/// The URLs and where the rotation stands.
#[derive(Debug, Clone)]
pub struct Gateways {
    urls: Vec<String>,
    at: usize,
    /// Connections that ended or failed since one was last tried with nothing in between.
    failed_in_a_row: usize,
}

impl Gateways {
    /// The enrolled URL first, then `extra` (duplicates dropped).
    pub fn new(enrolled: &str, extra: &[String]) -> Gateways {
        let mut urls = vec![enrolled.to_string()];
        for url in extra {
            if !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        Gateways {
            urls,
            at: 0,
            failed_in_a_row: 0,
        }
    }

    /// The URL to dial now.
    pub fn current(&self) -> &str {
        &self.urls[self.at]
    }

    /// A connection to [`Gateways::current`] ended (`welcomed`: it had got as far as
    /// `Welcome`, so the replica was alive until now). Moves on to the next URL; true when it
    /// should be dialed at once, false when every URL failed in a row and the caller waits.
    pub fn ended(&mut self, welcomed: bool) -> bool {
        self.failed_in_a_row = if welcomed {
            1
        } else {
            self.failed_in_a_row + 1
        };
        self.at = (self.at + 1) % self.urls.len();
        if self.failed_in_a_row >= self.urls.len() {
            self.failed_in_a_row = 0;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_always_waits() {
        let mut g = Gateways::new("wss://a:1", &["wss://a:1".to_string()]);
        assert!(!g.ended(true));
        assert!(!g.ended(false));
        assert_eq!(g.current(), "wss://a:1");
    }

    #[test]
    fn a_dead_replica_is_left_for_the_next_at_once_and_a_full_round_of_failures_waits() {
        let extra = ["wss://b:1".to_string(), "wss://c:1".to_string()];
        let mut g = Gateways::new("wss://a:1", &extra);
        assert_eq!(g.current(), "wss://a:1");
        assert!(g.ended(true), "a was alive: b at once");
        assert_eq!(g.current(), "wss://b:1");
        assert!(g.ended(false), "b refused: c at once");
        assert_eq!(g.current(), "wss://c:1");
        assert!(!g.ended(false), "all three failed in a row: wait");
        assert_eq!(g.current(), "wss://a:1");
        assert!(g.ended(false), "a new round starts after the wait");
        assert!(g.ended(false));
        assert!(!g.ended(false));
    }
}
