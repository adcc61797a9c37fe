//! The token bucket behind a webhook's `rate_limit_per_second`: it holds at most
//! `rate` tokens and gains `rate` a second; each request takes one. A delivery that
//! finds it empty is told how long until the next token, and waits in the queue.

use std::time::{Duration, Instant};

/// One webhook's bucket in this process.
#[derive(Debug, Clone)]
pub(super) struct TokenBucket {
    rate: u32,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket for `rate` requests a second (at least 1).
    pub(super) fn full(rate: u32, now: Instant) -> Self {
        let rate = rate.max(1);
        Self {
            rate,
            tokens: f64::from(rate),
            refilled_at: now,
        }
    }

    pub(super) fn rate(&self) -> u32 {
        self.rate
    }

    /// Follows a changed limit: the tokens it holds stay, up to the new capacity.
    pub(super) fn set_rate(&mut self, rate: u32, now: Instant) {
        self.refill(now);
        self.rate = rate.max(1);
        self.tokens = self.tokens.min(f64::from(self.rate));
    }

    /// Takes a token, or answers how long until the next one (whole milliseconds,
    /// rounded up, so a delivery that waits that long finds it).
    pub(super) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let seconds = (1.0 - self.tokens) / f64::from(self.rate);
        let millis = (seconds * 1000.0).ceil().max(1.0);
        // `millis` is in 1..=1000: the bucket never holds fewer than 0 tokens and gains
        // at least one a second.
        Err(Duration::try_from_secs_f64(millis / 1000.0).unwrap_or(Duration::from_secs(1)))
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        let capacity = f64::from(self.rate);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * capacity).min(capacity);
        self.refilled_at = self.refilled_at.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_gives_its_rate_at_once_then_one_token_per_interval() {
        // GIVEN a full bucket of 2 a second
        let start = Instant::now();
        let mut bucket = TokenBucket::full(2, start);
        // WHEN three requests come at once
        let taken = [bucket.take(start), bucket.take(start), bucket.take(start)];
        // THEN two go and the third waits half a second for the next token
        assert_eq!(taken[..2], [Ok(()), Ok(())]);
        assert_eq!(taken[2], Err(Duration::from_millis(500)));
        // AND a quarter second later the wait is the other quarter
        let later = start + Duration::from_millis(250);
        assert_eq!(bucket.take(later), Err(Duration::from_millis(250)));
        // AND once the half second has passed the token is there, once
        let due = start + Duration::from_millis(500);
        assert_eq!(bucket.take(due), Ok(()));
        assert_eq!(bucket.take(due), Err(Duration::from_millis(500)));
    }

    #[test]
    fn an_idle_bucket_fills_up_to_its_rate_only() {
        // GIVEN an empty bucket of 3 a second
        let start = Instant::now();
        let mut bucket = TokenBucket::full(3, start);
        for _ in 0..3 {
            bucket.take(start).unwrap();
        }
        // WHEN it is left alone for a minute
        let later = start + Duration::from_secs(60);
        // THEN it holds 3 tokens, not 180
        let taken = (0..10).filter(|_| bucket.take(later).is_ok()).count();
        assert_eq!(taken, 3);
    }

    #[test]
    fn a_lower_limit_caps_the_tokens_held() {
        // GIVEN a full bucket of 10 a second
        let start = Instant::now();
        let mut bucket = TokenBucket::full(10, start);
        // WHEN the limit becomes 1 a second
        bucket.set_rate(1, start);
        // THEN one request goes, and the next waits a whole second
        assert_eq!(bucket.rate(), 1);
        assert_eq!(bucket.take(start), Ok(()));
        assert_eq!(bucket.take(start), Err(Duration::from_secs(1)));
    }
}
