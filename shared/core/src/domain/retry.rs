//! The retry schedule: after the first attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
//! 10 h, each with ±20 % jitter; a `Retry-After` is honoured up to twice the
//! scheduled delay.

use std::time::Duration;

use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct RetrySchedule {
    /// Delay before attempt n + 2 (index 0 is the wait after the first attempt).
    delays: Vec<Duration>,
    /// Jitter as a fraction of the delay, e.g. 0.2.
    jitter: f64,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 3600;
        Self::new(
            [
                5,
                5 * MIN,
                30 * MIN,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                10 * HOUR,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
            0.2,
        )
    }
}

impl RetrySchedule {
    pub fn new(delays: Vec<Duration>, jitter: f64) -> Self {
        Self {
            delays,
            jitter: jitter.clamp(0.0, 0.9),
        }
    }

    /// How many attempts one series makes in all.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX - 1) + 1
    }

    /// The un-jittered delay after the `attempt_in_series`-th attempt (1-based), or
    /// `None` when that attempt was the last.
    pub fn scheduled_delay(&self, attempt_in_series: u32) -> Option<Duration> {
        let index = usize::try_from(attempt_in_series.checked_sub(1)?).ok()?;
        self.delays.get(index).copied()
    }

    /// The delay to wait after the `attempt_in_series`-th attempt failed, or `None`
    /// when the series is exhausted. `retry_after` is the receiver's wish.
    pub fn next_delay(
        &self,
        attempt_in_series: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let scheduled = self.scheduled_delay(attempt_in_series)?;
        let factor = if self.jitter > 0.0 {
            rand::thread_rng().gen_range(1.0 - self.jitter..=1.0 + self.jitter)
        } else {
            1.0
        };
        let jittered = scheduled.mul_f64(factor);
        Some(honour_retry_after(jittered, scheduled, retry_after))
    }
}

/// A receiver may ask us to wait longer, up to twice the scheduled delay; it never
/// makes us retry sooner than scheduled.
fn honour_retry_after(
    jittered: Duration,
    scheduled: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    match retry_after {
        Some(wish) => jittered.max(wish.min(scheduled * 2)),
        None => jittered,
    }
}

/// Parses a `Retry-After` value given in seconds (the HTTP-date form is ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_makes_eight_attempts() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 8);
        assert_eq!(schedule.scheduled_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(schedule.scheduled_delay(2), Some(Duration::from_secs(300)));
        assert_eq!(
            schedule.scheduled_delay(7),
            Some(Duration::from_secs(36_000))
        );
        assert_eq!(schedule.scheduled_delay(8), None);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let schedule = RetrySchedule::default();
        for _ in 0..200 {
            let delay = schedule.next_delay(2, None).unwrap().as_secs_f64();
            assert!((240.0..=360.0).contains(&delay), "{delay}");
        }
    }

    #[test]
    fn the_last_attempt_has_no_next_delay() {
        assert_eq!(RetrySchedule::default().next_delay(8, None), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_twice_the_schedule() {
        let schedule = RetrySchedule::new(vec![Duration::from_secs(100)], 0.0);
        let longer = schedule.next_delay(1, Some(Duration::from_secs(150)));
        assert_eq!(longer, Some(Duration::from_secs(150)));
        let far_too_long = schedule.next_delay(1, Some(Duration::from_secs(10_000)));
        assert_eq!(far_too_long, Some(Duration::from_secs(200)));
        let shorter = schedule.next_delay(1, Some(Duration::from_secs(1)));
        assert_eq!(shorter, Some(Duration::from_secs(100)));
    }

    #[test]
    fn retry_after_parses_seconds_only() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}

/// How long a queue message handed back for now (a record that failed for a passing
/// reason) stays hidden before the queue delivers it again: 10 s on its first receive,
/// doubling with each receive, at most 5 minutes (the queues' visibility timeout is
/// longer: 390 s).
pub fn handed_back_visibility(receive_count: u32) -> std::time::Duration {
    const FIRST: u64 = 10;
    const MOST: u64 = 300;
    let doublings = receive_count.saturating_sub(1).min(16);
    std::time::Duration::from_secs((FIRST << doublings).min(MOST))
}

#[cfg(test)]
mod handed_back_tests {
    use super::handed_back_visibility;
    use std::time::Duration;

    #[test]
    fn a_handed_back_message_waits_10_s_then_doubling_to_5_minutes() {
        let waits: Vec<u64> = [0, 1, 2, 3, 5, 6, 100]
            .into_iter()
            .map(|receives| handed_back_visibility(receives).as_secs())
            .collect();
        assert_eq!(waits, [10, 10, 20, 40, 160, 300, 300]);
        assert_eq!(handed_back_visibility(u32::MAX), Duration::from_secs(300));
    }
}
