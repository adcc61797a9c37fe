//! The lanes' own rules: the in-flight cap, the breaker, the rate limit, patience.
use super::*;
use crate::testing::fakes::answer;

fn settings() -> IsolationSettings {
    IsolationSettings {
        max_in_flight: 2,
        breaker_timeouts: 2,
        breaker_open_for: Duration::from_secs(60),
        lane_full_wait: Duration::from_secs(1),
        lane_patience: Duration::ZERO,
    }
}

fn webhook(id: &str) -> WebhookId {
    WebhookId::from_trusted(id)
}

#[test]
fn a_full_lane_sends_the_next_delivery_to_wait_and_frees_with_the_permit() {
    // Given a lane of two with both permits taken
    let isolation = Isolation::new(settings());
    let first = isolation.admit(&webhook("wh_a"), true);
    let second = isolation.admit(&webhook("wh_a"), false);
    assert!(matches!(first, Admission::Now(_)) && matches!(second, Admission::Now(_)));
    // When a third comes
    let third = isolation.admit(&webhook("wh_a"), false);
    // Then it waits in the queue; another webhook is not affected
    assert!(matches!(third, Admission::Later { wait, .. } if wait == Duration::from_secs(1)));
    assert!(matches!(
        isolation.admit(&webhook("wh_b"), true),
        Admission::Now(_)
    ));
    // And once a request ends, the lane takes one again
    drop(first);
    assert!(matches!(
        isolation.admit(&webhook("wh_a"), true),
        Admission::Now(_)
    ));
}

#[test]
fn a_breaker_that_opens_again_without_an_answer_stays_open_twice_as_long() {
    // GIVEN a breaker opened by two timeouts, for 60 s
    let isolation = Isolation::new(settings());
    let id = webhook("wh_down");
    let timeout = Err(SendError::Timeout(Duration::from_secs(5)));
    isolation.observe(&id, &timeout);
    isolation.observe(&id, &timeout);
    let open_for = |isolation: &Isolation| {
        isolation.with_lane(&id, |lane| {
            lane.open_until
                .map(|until| until.saturating_duration_since(Instant::now()))
        })
    };
    let first = open_for(&isolation).expect("open");
    assert!(first > Duration::from_secs(59) && first <= Duration::from_secs(60));
    // WHEN it half-opens and the probe times out too
    isolation.with_lane(&id, |lane| lane.open_until = Some(Instant::now()));
    assert!(matches!(isolation.admit(&id, true), Admission::Now(_)));
    isolation.observe(&id, &timeout);
    // THEN it is open for 120 s; more timeouts while open do not extend it
    let second = open_for(&isolation).expect("open again");
    assert!(second > Duration::from_secs(119) && second <= Duration::from_secs(120));
    isolation.observe(&id, &timeout);
    assert!(open_for(&isolation).expect("open") <= second);
    // AND after an answer, the next opening is back to 60 s
    isolation.observe(&id, &answer(500));
    isolation.observe(&id, &timeout);
    isolation.observe(&id, &timeout);
    let again = open_for(&isolation).expect("open");
    assert!(again <= Duration::from_secs(60));
}

#[tokio::test]
async fn a_burst_after_a_quiet_spell_waits_for_the_lane_rather_than_the_queue() {
    // GIVEN a lane of two with 50 ms of patience, whose last request ended 80 ms ago
    let isolation = Isolation::new(IsolationSettings {
        lane_patience: Duration::from_millis(50),
        ..settings()
    });
    let id = webhook("wh_quiet");
    drop(isolation.admit(&id, true));
    isolation.observe(&id, &answer(200));
    std::thread::sleep(Duration::from_millis(80));
    // WHEN a burst of three comes and the first request ends 10 ms later
    let first = isolation.admit(&id, true);
    let second = isolation.admit(&id, true);
    assert!(matches!(first, Admission::Now(_)) && matches!(second, Admission::Now(_)));
    let first_ends = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(first);
    };
    let (third, ()) = tokio::join!(isolation.admit_patiently(&id, true, None), first_ends);
    // THEN the third took the place it freed instead of going to the queue
    assert!(matches!(third, Admission::Now(_)), "{third:?}");
}

#[test]
fn timeouts_in_a_row_open_the_breaker_for_inline_deliveries_only() {
    // Given two timeouts in a row
    let isolation = Isolation::new(settings());
    let id = webhook("wh_slow");
    let timeout = Err(SendError::Timeout(Duration::from_secs(5)));
    isolation.observe(&id, &timeout);
    assert!(matches!(isolation.admit(&id, true), Admission::Now(_)));
    isolation.observe(&id, &timeout);
    // When fan-out and a queued task come
    let inline = isolation.admit(&id, true);
    let queued = isolation.admit(&id, false);
    // Then fan-out goes to the queue at once; the queued task is still attempted
    assert!(matches!(inline, Admission::Later { wait, .. } if wait.is_zero()));
    assert!(matches!(queued, Admission::Now(_)));
    // And an answer (even an error status) closes the breaker
    isolation.observe(&id, &answer(500));
    assert!(matches!(isolation.admit(&id, true), Admission::Now(_)));
}

#[test]
fn a_rate_limited_lane_admits_its_rate_then_waits_for_the_next_token() {
    // GIVEN a lane of two in flight for a webhook limited to 2 a second
    let isolation = Isolation::new(IsolationSettings {
        max_in_flight: 8,
        ..settings()
    });
    let id = webhook("wh_limited");
    // WHEN three deliveries come at once
    let first = isolation.admit_at_rate(&id, true, Some(2));
    let second = isolation.admit_at_rate(&id, false, Some(2));
    let third = isolation.admit_at_rate(&id, false, Some(2));
    // THEN two go, and the third waits about half a second, holding no permit
    assert!(matches!(first, Admission::Now(_)) && matches!(second, Admission::Now(_)));
    assert!(
        matches!(third, Admission::Later { wait, why } if wait > Duration::from_millis(400)
            && wait <= Duration::from_millis(500) && why.contains("rate limit")),
        "{third:?}"
    );
    // AND another webhook, and this one once unlimited, are not held back
    assert!(matches!(
        isolation.admit_at_rate(&webhook("wh_other"), true, Some(2)),
        Admission::Now(_)
    ));
    assert!(matches!(isolation.admit(&id, true), Admission::Now(_)));
}

#[test]
fn a_full_lane_turns_a_rate_limited_delivery_away_without_using_a_token() {
    // GIVEN a lane of two, full, for a webhook limited to 3 a second
    let isolation = Isolation::new(settings());
    let id = webhook("wh_busy");
    let held = [
        isolation.admit_at_rate(&id, true, Some(3)),
        isolation.admit_at_rate(&id, true, Some(3)),
    ];
    // WHEN a third comes
    let third = isolation.admit_at_rate(&id, false, Some(3));
    // THEN it waits for the lane (the in-flight wait), not for a token
    assert!(matches!(third, Admission::Later { wait, .. } if wait == Duration::from_secs(1)));
    // AND the token it did not take is there once a request ends
    drop(held);
    assert!(matches!(
        isolation.admit_at_rate(&id, false, Some(3)),
        Admission::Now(_)
    ));
}

#[test]
fn failing_since_is_written_once_per_change_even_from_a_stale_read() {
    let isolation = Isolation::new(settings());
    let id = webhook("wh_1");
    let now = Timestamp::from_unix_millis(1_000);
    // Four failures of one batch, all read failing_since = None
    let writes = (0..4)
        .filter(|_| isolation.failing_since_needs_write(&id, None, Some(now)))
        .count();
    assert_eq!(writes, 1);
    // A success read with the old None still clears it, once
    assert!(isolation.failing_since_needs_write(&id, None, None));
    assert!(!isolation.failing_since_needs_write(&id, None, None));
    // A failed write is tried again next time
    assert!(isolation.failing_since_needs_write(&id, None, Some(now)));
    isolation.failing_since_unknown(&id);
    assert!(isolation.failing_since_needs_write(&id, None, Some(now)));
}
