//! The demo's PRNG: SplitMix64, defined here so the demo never changes when a
//! dependency is upgraded.

use super::SEED;

/// SplitMix64: tiny, fast and fixed forever, unlike a crate's generator.
pub(crate) struct Rng(u64);

/// The SplitMix64 finaliser; a bijection, so distinct inputs give distinct outputs.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// An independent stream per section, so changing one section leaves the others.
    pub(crate) fn new(stream: u64) -> Self {
        Rng(mix(SEED ^ stream))
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform index below `len` (0 when `len` is 0).
    pub(crate) fn index(&mut self, len: usize) -> usize {
        (self.next_u64() % len.max(1) as u64) as usize
    }
    /// Uniform in [lo, hi); `lo` when the range is empty.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + (self.next_u64() % (hi - lo) as u64) as i64
        }
    }
    pub(crate) fn between_f(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Log-uniform in [lo, hi): durations spread evenly over orders of magnitude.
    pub(crate) fn log_between(&mut self, lo: i64, hi: i64) -> i64 {
        let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
        self.between_f(a, b).exp() as i64
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Exponential with this mean.
    pub(crate) fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
    /// Poisson count (Knuth). Knuth's product underflows for large rates, so a rate
    /// above 30 (only the bench scales reach one) is drawn as a sum of smaller ones.
    pub(crate) fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda > 30.0 {
            let parts = (lambda / 30.0).ceil();
            return (0..parts as u32)
                .map(|_| self.poisson(lambda / parts))
                .sum();
        }
        let limit = (-lambda).exp();
        let (mut n, mut product) = (0, self.unit());
        while product > limit && n < 1000 {
            n += 1;
            product *= self.unit();
        }
        n
    }
    /// Index of an item drawn with probability proportional to `weight`.
    pub(crate) fn weighted<T>(&mut self, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
        let mut left = self.unit() * items.iter().map(&weight).sum::<f64>();
        for (i, item) in items.iter().enumerate() {
            left -= weight(item);
            if left < 0.0 {
                return i;
            }
        }
        items.len().saturating_sub(1)
    }
}
