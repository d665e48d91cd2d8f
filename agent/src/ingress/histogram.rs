//! A fixed-bucket log histogram for request latencies: adding a value is a few shifts and one
//! increment, with no allocation, and two histograms merge bucket by bucket, so each ingress
//! worker keeps its own and the sampler adds them up. Buckets split every power of two into 8,
//! so a percentile read back is within 1/16 of the true value (reported at its bucket's middle).

/// Sub-buckets per power of two, as a shift: 2^3 = 8.
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
/// The largest power of two kept apart: 2^35 µs is about 9.5 hours; longer lands in the last
/// bucket.
const MAX_EXP: u32 = 35;
const BUCKETS: usize = ((MAX_EXP + 1 - SUB_BITS) as usize + 1) * SUB as usize;

/// Counts of values (microseconds, by convention) in log-spaced buckets.
#[derive(Clone)]
pub struct Histogram {
    buckets: [u32; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: [0; BUCKETS],
        }
    }
}

/// The bucket `v` falls in: values below 8 have one each, then 8 per power of two.
fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = (63 - v.leading_zeros()).min(MAX_EXP);
    let v = v.min((1 << (MAX_EXP + 1)) - 1);
    let sub = (v >> (exp - SUB_BITS)) & (SUB - 1);
    ((exp - SUB_BITS + 1) as usize) * SUB as usize + sub as usize
}

/// The middle of bucket `i`'s range, the value a percentile in it is reported as.
fn middle(i: usize) -> u64 {
    if i < SUB as usize {
        return i as u64;
    }
    let exp = (i / SUB as usize) as u32 + SUB_BITS - 1;
    let sub = (i % SUB as usize) as u64;
    let width = 1u64 << (exp - SUB_BITS);
    (SUB + sub) * width + width / 2
}

impl Histogram {
    pub fn add(&mut self, v: u64) {
        let b = &mut self.buckets[index(v)];
        *b = b.saturating_add(1);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a = a.saturating_add(*b);
        }
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&b| u64::from(b)).sum()
    }

    /// The value at quantile `q` (0.5 = median): the smallest bucket holding at least
    /// `ceil(q × count)` of the values, read at its middle; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
        let mut seen = 0;
        for (i, &b) in self.buckets.iter().enumerate() {
            seen += u64::from(b);
            if seen >= rank {
                return Some(middle(i));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_whose_middle_is_within_a_sixteenth() {
        for v in (0..5000).chain([123_456, 9_999_999, 1 << 34]) {
            let m = middle(index(v));
            let err = m.abs_diff(v);
            assert!(err * 16 <= v.max(1), "{v} read back as {m}");
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_and_merge() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for v in 1..=90 {
            a.add(v * 1000);
        }
        for _ in 0..10 {
            b.add(1_000_000);
        }
        a.merge(&b);
        assert_eq!(a.count(), 100);
        let p50 = a.quantile(0.5).unwrap();
        assert!(p50.abs_diff(50_000) * 16 <= 50_000, "{p50}");
        let p99 = a.quantile(0.99).unwrap();
        assert!(p99.abs_diff(1_000_000) * 16 <= 1_000_000, "{p99}");
        assert_eq!(Histogram::default().quantile(0.5), None);
    }
}
