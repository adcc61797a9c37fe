//! A small latency histogram with fixed, roughly log-spaced bounds, and percentiles
//! estimated from it: the estimate lies in the bucket holding the true value, so its
//! error is at most that bucket's width.

/// Upper bounds (inclusive, in ms) of every bucket but the last, open one.
pub const LATENCY_BOUNDS_MS: [u64; 12] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000,
];

/// Counts per latency bucket: `counts[i]` holds latencies up to `LATENCY_BOUNDS_MS[i]`
/// (above the previous bound); the last counts those above 60 s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    pub counts: [u64; LATENCY_BOUNDS_MS.len() + 1],
}

impl LatencyHistogram {
    /// The bucket a latency falls in.
    pub fn index_of(ms: u64) -> usize {
        LATENCY_BOUNDS_MS
            .iter()
            .position(|&bound| ms <= bound)
            .unwrap_or(LATENCY_BOUNDS_MS.len())
    }

    pub fn add(&mut self, ms: u64) {
        self.counts[Self::index_of(ms)] += 1;
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The estimated `q`-quantile (0 < q ≤ 1) in ms, interpolated linearly inside the
    /// bucket holding the rank `ceil(q·n)`; the open bucket answers its lower bound.
    /// `None` when the histogram is empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        // The rank of the value sought, 1-based, within 1..=total.
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut before = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            if count > 0 && before + count >= rank {
                let lower = if index == 0 {
                    0
                } else {
                    LATENCY_BOUNDS_MS[index - 1]
                };
                let Some(&upper) = LATENCY_BOUNDS_MS.get(index) else {
                    return Some(lower);
                };
                let share = (rank - before) as f64 / count as f64;
                return Some(lower + ((upper - lower) as f64 * share).round() as u64);
            }
            before += count;
        }
        LATENCY_BOUNDS_MS.last().copied()
    }
}
