//! Isolation: a slow, hanging or failing receiver may delay only its own deliveries.
//! Each webhook has a lane in this process: at most `max_in_flight` requests to it at
//! once, a breaker that opens after a run of timeouts, and, when the webhook has a
//! `rate_limit_per_second`, a token bucket of that rate. A delivery the lane cannot
//! take now is not an attempt: the dispatcher hands it to the task queue to come back
//! later, with the same attempt number, and logs nothing as failed.
//!
//! The breaker only sends *inline* deliveries (fan-out's first attempts) to the queue:
//! queued work of that webhook is still attempted when due, within the in-flight cap,
//! so a receiver that recovers is seen at once and no delivery circulates for ever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::rate::TokenBucket;
use crate::config::DEFAULT_MAX_IN_FLIGHT_PER_WEBHOOK;
use crate::domain::ids::WebhookId;
use crate::domain::time::Timestamp;
use crate::outbound::{OutboundResponse, SendError};

/// Timeouts in a row after which a webhook's breaker opens.
pub const BREAKER_TIMEOUTS: u32 = 3;
/// How long an open breaker first sends a webhook's new deliveries straight to the
/// queue; each time it opens again without an answer in between, twice as long, up to
/// [`BREAKER_MAX_DOUBLINGS`] doublings (30 s, 1 min, … 8 min): every time it half-opens,
/// the batch whose attempt finds the receiver still hanging waits one timeout for it.
pub const BREAKER_OPEN_FOR: Duration = Duration::from_secs(30);
/// The most times [`BREAKER_OPEN_FOR`] is doubled.
pub const BREAKER_MAX_DOUBLINGS: u32 = 4;
/// How long a delivery that found its webhook's lane full waits in the queue.
pub const LANE_FULL_WAIT: Duration = Duration::from_secs(1);
/// How long a delivery waits in the process for a full lane to free a place before
/// it goes to the queue: a burst to a fast receiver is sent at once, while a slow
/// receiver's backlog leaves the worker (and the batch) quickly.
pub const LANE_PATIENCE: Duration = Duration::from_millis(50);

const LANE_FULL: &str = "its in-flight limit is reached";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsolationSettings {
    /// At most this many requests to one webhook at once (1–64).
    pub max_in_flight: usize,
    pub breaker_timeouts: u32,
    pub breaker_open_for: Duration,
    pub lane_full_wait: Duration,
    pub lane_patience: Duration,
}

impl Default for IsolationSettings {
    fn default() -> Self {
        Self {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT_PER_WEBHOOK,
            breaker_timeouts: BREAKER_TIMEOUTS,
            breaker_open_for: BREAKER_OPEN_FOR,
            lane_full_wait: LANE_FULL_WAIT,
            lane_patience: LANE_PATIENCE,
        }
    }
}

/// Whether a delivery may be attempted now.
#[derive(Debug)]
pub enum Admission {
    /// Go: hold the permit for as long as the request is in flight.
    Now(OwnedSemaphorePermit),
    /// Not now: hand the delivery to the queue for this long.
    Later { wait: Duration, why: &'static str },
}

/// One webhook's lane.
struct Lane {
    permits: Arc<Semaphore>,
    timeouts_in_a_row: u32,
    open_until: Option<Instant>,
    /// Times the breaker opened since the receiver last answered.
    opened_in_a_row: u32,
    /// What this process last wrote as the webhook's `failing_since` (`Some(None)`:
    /// cleared), so a batch that read a stale webhook writes it once, not per attempt.
    failing_since_written: Option<Option<Timestamp>>,
    /// The rate limit's bucket, while the webhook has one.
    bucket: Option<TokenBucket>,
    /// When a request of this lane last ended, or one started on the idle lane (or the
    /// lane was made): a full lane whose requests keep ending is worth waiting for, one
    /// whose requests hang is not.
    last_moved: Instant,
}

impl Lane {
    /// The bucket for `rate` (`None`: no limit, and the bucket is forgotten), made full
    /// on first use and following a changed limit.
    fn bucket(&mut self, rate: Option<u32>, now: Instant) -> Option<&mut TokenBucket> {
        let Some(rate) = rate else {
            self.bucket = None;
            return None;
        };
        let bucket = self
            .bucket
            .get_or_insert_with(|| TokenBucket::full(rate, now));
        if bucket.rate() != rate {
            bucket.set_rate(rate, now);
        }
        Some(bucket)
    }
}

/// Every webhook's lane in this process. Cheap to clone (shared).
#[derive(Clone)]
pub struct Isolation {
    settings: IsolationSettings,
    lanes: Arc<Mutex<HashMap<WebhookId, Lane>>>,
}

impl Isolation {
    pub fn new(settings: IsolationSettings) -> Self {
        Self {
            settings,
            lanes: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn settings(&self) -> &IsolationSettings {
        &self.settings
    }

    fn with_lane<T>(&self, webhook: &WebhookId, f: impl FnOnce(&mut Lane) -> T) -> T {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        let max = self.settings.max_in_flight.max(1);
        let lane = lanes.entry(webhook.clone()).or_insert_with(|| Lane {
            permits: Arc::new(Semaphore::new(max)),
            timeouts_in_a_row: 0,
            open_until: None,
            opened_in_a_row: 0,
            failing_since_written: None,
            bucket: None,
            last_moved: Instant::now(),
        });
        f(lane)
    }

    /// [`admit_at_rate`](Self::admit_at_rate) without a rate limit (the lane's tests).
    #[cfg(test)]
    pub fn admit(&self, webhook: &WebhookId, inline: bool) -> Admission {
        self.admit_at_rate(webhook, inline, None)
    }

    /// May a delivery to `webhook` start now? `inline` is fan-out's first attempt,
    /// which an open breaker sends to the queue. Past the breaker and the in-flight
    /// cap, a webhook limited to `rate` requests a second also needs a token of its
    /// bucket, and without one it waits until the next token. A delivery sent back
    /// never uses a token.
    pub fn admit_at_rate(&self, webhook: &WebhookId, inline: bool, rate: Option<u32>) -> Admission {
        self.with_lane(webhook, |lane| {
            let now = Instant::now();
            if let Some(until) = lane.open_until {
                if until <= now {
                    // Half-open: the next attempt decides.
                    lane.open_until = None;
                } else if inline {
                    return Admission::Later {
                        wait: Duration::ZERO,
                        why: "its receiver keeps timing out",
                    };
                }
            }
            let idle = lane.permits.available_permits() >= self.settings.max_in_flight.max(1);
            let Ok(permit) = Arc::clone(&lane.permits).try_acquire_owned() else {
                return Admission::Later {
                    wait: self.settings.lane_full_wait,
                    why: LANE_FULL,
                };
            };
            if idle {
                // The first request after a quiet spell: the lane has not shown yet
                // that its requests hang, so a burst that fills it is worth waiting for.
                lane.last_moved = now;
            }
            Self::with_token(lane, permit, rate, now)
        })
    }

    /// [`admit_at_rate`](Self::admit_at_rate), but a delivery that finds the lane full
    /// waits up to the lane's patience for a place before it is sent to the queue.
    pub async fn admit_patiently(
        &self,
        webhook: &WebhookId,
        inline: bool,
        rate: Option<u32>,
    ) -> Admission {
        let admission = self.admit_at_rate(webhook, inline, rate);
        let patience = self.settings.lane_patience;
        if !matches!(admission, Admission::Later { why: LANE_FULL, .. }) || patience.is_zero() {
            return admission;
        }
        // Waiting pays only while the lane's requests keep ending: a lane stuck on a
        // hanging receiver would hold the caller (an event's job, a batch) in vain.
        let Some(permits) = self.with_lane(webhook, |lane| {
            (lane.last_moved.elapsed() < patience).then(|| Arc::clone(&lane.permits))
        }) else {
            return admission;
        };
        match tokio::time::timeout(patience, permits.acquire_owned()).await {
            Ok(Ok(permit)) => self.with_lane(webhook, |lane| {
                Self::with_token(lane, permit, rate, Instant::now())
            }),
            _ => admission,
        }
    }

    /// Holding `permit`, a webhook limited to `rate` also needs a token.
    fn with_token(
        lane: &mut Lane,
        permit: OwnedSemaphorePermit,
        rate: Option<u32>,
        now: Instant,
    ) -> Admission {
        match lane.bucket(rate, now).map(|bucket| bucket.take(now)) {
            None | Some(Ok(())) => Admission::Now(permit),
            // The permit goes back as it is dropped.
            Some(Err(wait)) => Admission::Later {
                wait,
                why: "its rate limit is reached",
            },
        }
    }

    /// Learns from an attempt's result: timeouts in a row open the breaker; any answer
    /// closes it.
    pub fn observe(&self, webhook: &WebhookId, result: &Result<OutboundResponse, SendError>) {
        let settings = &self.settings;
        self.with_lane(webhook, |lane| {
            lane.last_moved = Instant::now();
            match result {
                Err(SendError::Timeout(_)) => {
                    lane.timeouts_in_a_row = lane.timeouts_in_a_row.saturating_add(1);
                    if lane.timeouts_in_a_row >= settings.breaker_timeouts
                        && lane.open_until.is_none()
                    {
                        let doublings = lane.opened_in_a_row.min(BREAKER_MAX_DOUBLINGS);
                        let open_for = settings.breaker_open_for * 2u32.pow(doublings);
                        lane.open_until = Some(Instant::now() + open_for);
                        lane.opened_in_a_row = lane.opened_in_a_row.saturating_add(1);
                    }
                }
                Ok(_) => {
                    lane.timeouts_in_a_row = 0;
                    lane.open_until = None;
                    lane.opened_in_a_row = 0;
                }
                Err(_) => {}
            }
        });
    }

    /// Whether `failing_since` should be written as `wanted`, given what the webhook
    /// read said (`stored`) and what this process wrote before; records it as written.
    pub fn failing_since_needs_write(
        &self,
        webhook: &WebhookId,
        stored: Option<Timestamp>,
        wanted: Option<Timestamp>,
    ) -> bool {
        self.with_lane(webhook, |lane| {
            let known = lane.failing_since_written.unwrap_or(stored);
            let needed = known.is_some() != wanted.is_some();
            if needed {
                lane.failing_since_written = Some(wanted);
            }
            needed
        })
    }

    /// Forgets a write that failed, so the next attempt tries it again.
    pub fn failing_since_unknown(&self, webhook: &WebhookId) {
        self.with_lane(webhook, |lane| lane.failing_since_written = None);
    }
}

#[cfg(test)]
#[path = "isolation_lane_tests.rs"]
mod tests;
