//! Failed-login throttling per client IP and per account: after `limit` failures inside the
//! window, further attempts for that key are refused until the oldest failure ages out. Only
//! failures count, so a person who types the password right is never slowed down by their own
//! successful logins. Kept in memory: a restart forgives, which is acceptable for a throttle.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    per_account: usize,
    per_ip: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Bound on tracked keys so a spray of random emails cannot grow the map without limit.
const MAX_KEYS: usize = 100_000;

impl LoginLimiter {
    pub fn new(window: Duration, per_account: usize, per_ip: usize) -> Self {
        LoginLimiter {
            window,
            per_account,
            per_ip,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, ip: Option<&str>) -> [(String, bool); 2] {
        [
            (format!("acct:{email}"), true),
            (format!("ip:{}", ip.unwrap_or("?")), false),
        ]
    }

    /// `Err(retry_after)` when either key is over its limit at `now`.
    pub fn check(&self, email: &str, ip: Option<&str>, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        let mut wait = Duration::ZERO;
        for (key, is_account) in Self::keys(email, ip) {
            let limit = if is_account {
                self.per_account
            } else {
                self.per_ip
            };
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    q.pop_front();
                }
                if q.len() >= limit {
                    let oldest = *q.front().expect("non-empty: len >= limit >= 1");
                    wait = wait.max(self.window.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    pub fn record_failure(&self, email: &str, ip: Option<&str>, now: Instant) {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        for (key, _) in Self::keys(email, ip) {
            map.entry(key).or_default().push_back(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixth_failure_in_a_window_is_refused_then_forgiven() {
        let l = LoginLimiter::new(Duration::from_secs(60), 5, 50);
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(
                l.check("a@x.io", Some("1.1.1.1"), t0).is_ok(),
                "attempt {i}"
            );
            l.record_failure("a@x.io", Some("1.1.1.1"), t0);
        }
        let wait = l
            .check("a@x.io", Some("1.1.1.1"), t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            l.check("b@x.io", Some("1.1.1.1"), t0).is_ok(),
            "other accounts unaffected"
        );
        assert!(
            l.check("a@x.io", Some("1.1.1.1"), t0 + Duration::from_secs(60))
                .is_ok()
        );
    }

    #[test]
    fn one_ip_spraying_many_accounts_is_refused() {
        let l = LoginLimiter::new(Duration::from_secs(60), 5, 3);
        let t0 = Instant::now();
        for i in 0..3 {
            l.record_failure(&format!("u{i}@x.io"), Some("9.9.9.9"), t0);
        }
        assert!(l.check("new@x.io", Some("9.9.9.9"), t0).is_err());
        assert!(l.check("new@x.io", Some("8.8.8.8"), t0).is_ok());
    }
}
