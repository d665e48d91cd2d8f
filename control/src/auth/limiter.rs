//! Failed-login throttling per client IP and per account: after `limit` failures inside the
//! window, further attempts for that key are refused until the oldest failure ages out. Only
//! failures count, so a person who types the password right is never slowed down by their own
//! successful logins. Kept in memory: a restart forgives, which is acceptable for a throttle.
//!
//! Logins take a slot with [`LoginLimiter::reserve`] before the password is hashed: an attempt
//! in flight counts like a failure until it ends, so parallel attempts cannot all pass the
//! check before the first failure is recorded (M2).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    per_account: usize,
    per_ip: usize,
    failures: Mutex<HashMap<String, Attempts>>,
}

/// One key's failures inside the window and its attempts still running.
#[derive(Debug, Default)]
struct Attempts {
    failed: VecDeque<Instant>,
    in_flight: usize,
}

/// A slot taken by [`LoginLimiter::reserve`]: [`Reservation::failed`] turns it into a failure;
/// dropped otherwise (the password was right), it is given back.
#[must_use]
pub struct Reservation<'a> {
    limiter: &'a LoginLimiter,
    email: String,
    ip: Option<String>,
    failed_at: Option<Instant>,
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
        self.over(&mut map, email, ip, now)
    }

    /// Checks and, in the same critical section, counts this attempt as in flight for both
    /// keys until the reservation ends.
    pub fn reserve(
        &self,
        email: &str,
        ip: Option<&str>,
        now: Instant,
    ) -> Result<Reservation<'_>, Duration> {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        self.over(&mut map, email, ip, now)?;
        Self::make_room(&mut map, self.window, now);
        for (key, _) in Self::keys(email, ip) {
            map.entry(key).or_default().in_flight += 1;
        }
        Ok(Reservation {
            limiter: self,
            email: email.to_string(),
            ip: ip.map(str::to_string),
            failed_at: None,
        })
    }

    fn over(
        &self,
        map: &mut HashMap<String, Attempts>,
        email: &str,
        ip: Option<&str>,
        now: Instant,
    ) -> Result<(), Duration> {
        let mut wait = Duration::ZERO;
        for (key, is_account) in Self::keys(email, ip) {
            let limit = if is_account {
                self.per_account
            } else {
                self.per_ip
            };
            if let Some(a) = map.get_mut(&key) {
                let q = &mut a.failed;
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    q.pop_front();
                }
                if q.len() >= limit {
                    let oldest = *q.front().expect("non-empty: len >= limit >= 1");
                    wait = wait.max(self.window.saturating_sub(now.duration_since(oldest)));
                } else if q.len() + a.in_flight >= limit {
                    // Full of attempts still running: one of them may fail and fill it.
                    wait = wait.max(Duration::from_secs(1));
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Forgets keys with nothing recent and nothing running once the map is at its bound.
    fn make_room(map: &mut HashMap<String, Attempts>, window: Duration, now: Instant) {
        if map.len() >= MAX_KEYS {
            map.retain(|_, a| {
                a.in_flight > 0
                    || a.failed
                        .back()
                        .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
    }

    pub fn record_failure(&self, email: &str, ip: Option<&str>, now: Instant) {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        Self::make_room(&mut map, self.window, now);
        for (key, _) in Self::keys(email, ip) {
            map.entry(key).or_default().failed.push_back(now);
        }
    }

    /// Ends a reservation: gives the slot back, and records a failure if it was one.
    fn release(&self, email: &str, ip: Option<&str>, failed_at: Option<Instant>) {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        for (key, _) in Self::keys(email, ip) {
            let a = map.entry(key.clone()).or_default();
            a.in_flight = a.in_flight.saturating_sub(1);
            if let Some(t) = failed_at {
                a.failed.push_back(t);
            }
            if a.in_flight == 0 && a.failed.is_empty() {
                map.remove(&key);
            }
        }
    }
}

impl Reservation<'_> {
    /// The attempt failed: its slot becomes a failure in the window.
    pub fn failed(mut self, now: Instant) {
        self.failed_at = Some(now);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.limiter
            .release(&self.email, self.ip.as_deref(), self.failed_at);
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

    #[test]
    fn attempts_in_flight_fill_the_limit() {
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 50);
        let t0 = Instant::now();
        let a = l.reserve("a@x.io", Some("1.1.1.1"), t0).unwrap();
        let b = l.reserve("a@x.io", Some("1.1.1.1"), t0).unwrap();
        assert!(l.reserve("a@x.io", Some("1.1.1.1"), t0).is_err());
        drop(a);
        let c = l
            .reserve("a@x.io", Some("1.1.1.1"), t0)
            .expect("a success gives it back");
        b.failed(t0);
        c.failed(t0);
        assert!(l.check("a@x.io", Some("1.1.1.1"), t0).is_err());
    }
}
