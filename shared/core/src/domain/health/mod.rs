//! A webhook's health: attempts tallied as they are logged into fixed time buckets of
//! three granularities, and the stats of a window computed from those tallies alone,
//! so reading a window costs one stored bucket per shown bucket, whatever the number
//! of deliveries in it.

mod histogram;
mod report;
mod tally;

use std::time::Duration;

pub use histogram::{LatencyHistogram, LATENCY_BOUNDS_MS};
pub use report::{report, LatencySummary, StatsBucket, WebhookStats};
pub use tally::{tally, BucketKey, LastSeen, StatsUpdate, Tally};

use crate::domain::time::Timestamp;

/// The size of a stored bucket. Each window reads one granularity only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Granularity {
    /// 2.5 minutes: the 24 buckets of the 1-hour window.
    Slot,
    /// One hour: the 24 buckets of the 24-hour window.
    Hour,
    /// One UTC day: the 7 buckets of the 7-day window.
    Day,
}

impl Granularity {
    pub const ALL: [Granularity; 3] = [Granularity::Slot, Granularity::Hour, Granularity::Day];

    pub fn length(self) -> Duration {
        Duration::from_millis(self.millis().unsigned_abs())
    }

    fn millis(self) -> i64 {
        match self {
            Granularity::Slot => 150_000,
            Granularity::Hour => 3_600_000,
            Granularity::Day => 86_400_000,
        }
    }

    /// How long a stored bucket is kept after its start: past its longest window.
    pub fn retention(self) -> Duration {
        match self {
            Granularity::Slot => Duration::from_secs(2 * 3600),
            Granularity::Hour => Duration::from_secs(2 * 86_400),
            Granularity::Day => Duration::from_secs(8 * 86_400),
        }
    }

    /// The stored name (`slot`, `hour`, `day`).
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Slot => "slot",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    pub fn parse(text: &str) -> Option<Granularity> {
        Granularity::ALL.into_iter().find(|g| g.as_str() == text)
    }

    /// The start of the bucket holding `at`.
    pub fn floor(self, at: Timestamp) -> Timestamp {
        let millis = at.unix_millis();
        Timestamp::from_unix_millis(millis - millis.rem_euclid(self.millis()))
    }
}

/// What `GET /webhooks/{id}/stats?window=` accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Window {
    /// `1h`: 24 buckets of 2.5 minutes.
    Hour,
    /// `24h` (the default): 24 buckets of an hour.
    #[default]
    Day,
    /// `7d`: 7 buckets of a UTC day.
    Week,
}

impl Window {
    pub const ALL: [Window; 3] = [Window::Hour, Window::Day, Window::Week];

    pub fn as_str(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "24h",
            Window::Week => "7d",
        }
    }

    pub fn parse(text: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.as_str() == text)
    }

    pub fn granularity(self) -> Granularity {
        match self {
            Window::Hour => Granularity::Slot,
            Window::Day => Granularity::Hour,
            Window::Week => Granularity::Day,
        }
    }

    pub fn bucket_count(self) -> usize {
        match self {
            Window::Hour | Window::Day => 24,
            Window::Week => 7,
        }
    }

    /// The starts of the window's buckets at `now`, oldest first: the last is the
    /// bucket holding `now`, so the window covers its length up to one bucket more.
    pub fn layout(self, now: Timestamp) -> Vec<Timestamp> {
        let granularity = self.granularity();
        let last = granularity.floor(now).unix_millis();
        let count = i64::try_from(self.bucket_count()).unwrap_or(0);
        (0..count)
            .rev()
            .map(|back| Timestamp::from_unix_millis(last - back * granularity.millis()))
            .collect()
    }
}

#[cfg(test)]
mod tests;
