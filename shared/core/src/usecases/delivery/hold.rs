//! Waiting out a retry's delay in the queue's visibility rather than in hops. SQS
//! delays a message by at most 15 minutes, so a task due in hours used to be sent
//! again every 15 minutes (≈ 112 `SendMessage` over a failing delivery's 27.6 h
//! schedule). A task received before its time can instead stay in the queue,
//! invisible until it is due (`ChangeMessageVisibility`, at most 12 hours from its
//! receipt): one call per wait of up to 12 hours.
//!
//! Held messages count as in flight, and SQS refuses to receive from a standard queue
//! with 120,000 in flight, so a queue already holding many goes back to hops; and a
//! message received several times (its visibility change may have failed) is sent
//! again as a new message rather than risk the queue's dead-letter limit.

use std::time::Duration;

/// The longest hold: SQS's 12 hours from receipt, less what the invocation took.
pub const LONGEST_HOLD: Duration = Duration::from_secs(12 * 3600 - 10 * 60);

/// A message received more often than this is not held again (the retry queue's
/// dead-letter limit is 5 receives).
pub const MAX_HOLD_RECEIVES: u32 = 3;

/// Holding stops while the queue has this many messages in flight (SQS's limit is
/// 120,000 for a standard queue).
pub const MAX_HELD_IN_FLIGHT: u64 = 50_000;

/// True when a message received `receive_count` times may be held, the queue having
/// `in_flight` messages in flight (`None`: not known, so not held).
pub fn may_hold(receive_count: u32, in_flight: Option<u64>) -> bool {
    receive_count <= MAX_HOLD_RECEIVES && in_flight.is_some_and(|n| n < MAX_HELD_IN_FLIGHT)
}

/// How long a message due in `wait` is hidden: until then, or the longest hold.
pub fn hold_visibility(wait: Duration) -> Duration {
    wait.min(LONGEST_HOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_held_only_when_the_queue_is_known_to_have_room_and_it_came_few_times() {
        // GIVEN receive counts and in-flight counts; WHEN asked; THEN
        assert!(may_hold(1, Some(0)));
        assert!(may_hold(MAX_HOLD_RECEIVES, Some(MAX_HELD_IN_FLIGHT - 1)));
        assert!(!may_hold(MAX_HOLD_RECEIVES + 1, Some(0)));
        assert!(!may_hold(1, Some(MAX_HELD_IN_FLIGHT)));
        assert!(!may_hold(1, None));
    }

    #[test]
    fn a_hold_lasts_until_the_task_is_due_but_never_past_sqs_limit() {
        assert_eq!(
            hold_visibility(Duration::from_secs(60)),
            Duration::from_secs(60)
        );
        assert_eq!(
            hold_visibility(Duration::from_secs(13 * 3600)),
            LONGEST_HOLD
        );
    }
}
