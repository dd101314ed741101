//! [`Hist`]: the latency histogram.

/// Log-linear histogram of microseconds (~3 % resolution).
#[derive(Debug, Clone)]
pub(crate) struct Hist {
    buckets: Vec<u64>,
    count: u64,
    pub(crate) max: u64,
}

impl Hist {
    pub(crate) fn new() -> Self {
        Self {
            buckets: vec![0; 64 + 58 * 32],
            count: 0,
            max: 0,
        }
    }
    fn index(v: u64) -> usize {
        if v < 64 {
            return v as usize;
        }
        let e = 63 - u64::from(v.leading_zeros()); // >= 6
        64 + (e as usize - 6) * 32 + ((v >> (e - 5)) & 31) as usize
    }
    fn value(i: usize) -> u64 {
        if i < 64 {
            return i as u64;
        }
        let e = (i - 64) / 32 + 6;
        let sub = ((i - 64) % 32) as u64;
        ((32 + sub) << (e - 5)) + (1 << (e - 5)) / 2
    }
    pub(crate) fn record(&mut self, v: u64) {
        self.buckets[Self::index(v)] += 1;
        self.count += 1;
        self.max = self.max.max(v);
    }
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Self::value(i).min(self.max) as f64 / 1000.0;
            }
        }
        self.max as f64 / 1000.0
    }
}
