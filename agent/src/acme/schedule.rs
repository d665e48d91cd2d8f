//! When to act: the renewal time of a certificate and the retry time after a failure. Pure
//! functions of a given clock and a given random draw, so they are tested exactly.

use std::time::Duration;

use super::options::Timings;

/// When a certificate valid from `not_before_ms` to `not_after_ms` (Unix ms) is renewed:
/// `renew_at` of its lifetime after `not_before`, minus `jitter` (a draw in `[0, 1)`) times
/// `renew_jitter` of the lifetime.
pub fn renew_at_ms(not_before_ms: i64, not_after_ms: i64, timings: &Timings, jitter: f64) -> i64 {
    let lifetime = (not_after_ms - not_before_ms).max(0) as f64;
    let early = lifetime * timings.renew_jitter * jitter.clamp(0.0, 1.0);
    not_before_ms + (lifetime * timings.renew_at - early) as i64
}

/// How long to wait after the `failures`-th failure in a row (1 for the first):
/// `backoff_first` doubling per failure up to `backoff_max`, then scaled into
/// `[1/2, 1]` of that by `jitter` (a draw in `[0, 1)`) so failing domains don't retry together.
pub fn backoff(failures: u32, timings: &Timings, jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    let full = timings
        .backoff_first
        .saturating_mul(1u32 << doublings)
        .min(timings.backoff_max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A draw in `[0, 1)`.
pub fn jitter() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn a_90_day_certificate_renews_after_60_days_at_most_3_days_early() {
        let t = Timings::default();
        assert_eq!(renew_at_ms(0, 90 * DAY, &t, 0.0), 60 * DAY);
        assert_eq!(renew_at_ms(1000, 1000 + 90 * DAY, &t, 0.0), 1000 + 60 * DAY);
        let earliest = renew_at_ms(0, 90 * DAY, &t, 0.999_999);
        assert!((57 * DAY..60 * DAY).contains(&earliest), "{earliest}");
    }

    #[test]
    fn a_backwards_validity_is_due_at_once() {
        let t = Timings::default();
        assert_eq!(renew_at_ms(5 * DAY, 4 * DAY, &t, 0.5), 5 * DAY);
    }

    #[test]
    fn backoff_doubles_from_a_minute_to_six_hours() {
        let t = Timings::default();
        let full = |n| backoff(n, &t, 1.0);
        assert_eq!(full(1), Duration::from_secs(60));
        assert_eq!(full(2), Duration::from_secs(120));
        assert_eq!(full(3), Duration::from_secs(240));
        assert_eq!(full(9), Duration::from_secs(60 << 8));
        assert_eq!(full(10), Duration::from_secs(6 * 3600));
        assert_eq!(full(1000), Duration::from_secs(6 * 3600));
        assert_eq!(backoff(0, &t, 1.0), Duration::from_secs(60));
    }

    #[test]
    fn backoff_jitter_keeps_at_least_half() {
        let t = Timings::default();
        assert_eq!(backoff(2, &t, 0.0), Duration::from_secs(60));
        assert_eq!(backoff(2, &t, 0.5), Duration::from_secs(90));
        let d = backoff(2, &t, jitter());
        assert!((Duration::from_secs(60)..=Duration::from_secs(120)).contains(&d));
    }
}
