//! How a write of a webhook and of its subscription items is cut into
//! `TransactWriteItems` calls of at most [`MAX_TRANSACT_ITEMS`] items.
//!
//! A webhook may list up to 100 clients (`MAX_CLIENTS`), so an edit may put 100
//! subscription items and delete 100 others: 201 writes, more than one transaction
//! holds. The first call carries the webhook's own write (conditioned on its version,
//! or on its absence for a new one), then the deletions, then as many puts as fit: all
//! of it happens or none. What is left follows in more calls:
//!
//! - deletions left over (only an edit that drops all of 100 clients leaves one), each
//!   conditioned on the item being older than the new version (`DeleteOlder`), so a
//!   newer edit that subscribed that client again keeps its item;
//! - puts left over, in calls that first check the webhook is still at the version
//!   just written (`CheckVersion`): once a newer edit is stored, it owns the
//!   subscriptions (it rewrites all of its own) and the rest of this plan is dropped.
//!
//! A failure between calls leaves the webhook written and some subscriptions stale:
//! the store says so in its error, and `webhooks migrate subscriptions` (or saving the
//! webhook again) repairs them.

use webhooks_core::domain::subscription::{Subscription, SubscriptionChange};

/// DynamoDB's limit of items in one `TransactWriteItems` call.
pub const MAX_TRANSACT_ITEMS: usize = 100;

/// One item of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// The webhook's own write (first call only).
    Anchor,
    /// A `ConditionCheck` that the webhook item is at this version.
    CheckVersion(u64),
    Put(Subscription),
    /// An unconditional delete (in the call that holds the anchor, or of a deleted
    /// webhook's items).
    Delete(Subscription),
    /// A delete only where the item is absent or copies a version older than this.
    DeleteOlder(Subscription, u64),
}

/// The calls that write `change` with the webhook's own write; `after_version` is
/// the version the write stores (`None` when it deletes the webhook).
pub(crate) fn plan(after_version: Option<u64>, change: &SubscriptionChange) -> Vec<Vec<Op>> {
    plan_with(MAX_TRANSACT_ITEMS, after_version, change)
}

fn plan_with(max: usize, after_version: Option<u64>, change: &SubscriptionChange) -> Vec<Vec<Op>> {
    let mut deletes = change.delete.iter().cloned().peekable();
    let mut puts = change.put.iter().cloned().peekable();
    let mut first = vec![Op::Anchor];
    while first.len() < max {
        if let Some(sub) = deletes.next() {
            first.push(Op::Delete(sub));
        } else if let Some(sub) = puts.next() {
            first.push(Op::Put(sub));
        } else {
            break;
        }
    }
    let mut calls = vec![first];
    let left_deletes: Vec<Op> = deletes
        .map(|sub| match after_version {
            Some(version) => Op::DeleteOlder(sub, version),
            None => Op::Delete(sub),
        })
        .collect();
    calls.extend(left_deletes.chunks(max).map(<[Op]>::to_vec));
    if let Some(version) = after_version {
        let left_puts: Vec<Op> = puts.map(Op::Put).collect();
        for chunk in left_puts.chunks(max.saturating_sub(1).max(1)) {
            let mut call = vec![Op::CheckVersion(version)];
            call.extend(chunk.iter().cloned());
            calls.push(call);
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use webhooks_core::domain::subscription::{subscriptions_of, Audience};
    use webhooks_core::domain::webhook::ClientScope;
    use webhooks_core::testing::fixtures::webhook;

    use super::*;

    fn clients(prefix: &str, n: usize) -> ClientScope {
        ClientScope::Only((0..n).map(|i| format!("{prefix}{i:03}")).collect())
    }

    fn count(calls: &[Vec<Op>], wanted: fn(&Op) -> bool) -> usize {
        calls.iter().flatten().filter(|op| wanted(op)).count()
    }

    #[test]
    fn a_small_edit_is_one_transaction() {
        // GIVEN a webhook of 3 clients edited to 2 others
        let mut before = webhook("report.publish_status");
        before.clients = clients("a", 3);
        let mut after = before.clone();
        after.clients = clients("b", 2);
        after.version = 2;
        // WHEN planned
        let calls = plan(
            Some(2),
            &SubscriptionChange::between(Some(&before), Some(&after)),
        );
        // THEN one call: the webhook, 3 deletes, 2 puts
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0][0], Op::Anchor);
        assert_eq!(calls[0].len(), 6);
    }

    #[test]
    fn a_new_webhook_of_100_clients_needs_a_second_call_checked_on_its_version() {
        // GIVEN a new webhook of the most clients a webhook may have
        let mut hook = webhook("report.publish_status");
        hook.clients = clients("c", 100);
        // WHEN planned
        let calls = plan(Some(1), &SubscriptionChange::between(None, Some(&hook)));
        // THEN the first call is full and the last put follows, checked on version 1
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].len(), MAX_TRANSACT_ITEMS);
        assert_eq!(calls[1].len(), 2);
        assert_eq!(calls[1][0], Op::CheckVersion(1));
        assert_eq!(count(&calls, |op| matches!(op, Op::Put(_))), 100);
        assert!(calls.iter().all(|call| call.len() <= MAX_TRANSACT_ITEMS));
    }

    #[test]
    fn replacing_all_of_100_clients_deletes_first_and_leaves_one_older_only_delete() {
        // GIVEN a webhook of 100 clients edited to 100 others: 200 writes
        let mut before = webhook("report.publish_status");
        before.clients = clients("old", 100);
        let mut after = before.clone();
        after.clients = clients("new", 100);
        after.version = 2;
        // WHEN planned
        let calls = plan(
            Some(2),
            &SubscriptionChange::between(Some(&before), Some(&after)),
        );
        // THEN the first call holds the webhook and 99 deletes, the 100th delete is
        // conditioned on the item being older than version 2, and the 100 puts follow
        // in calls checked on version 2
        assert!(calls[0][1..].iter().all(|op| matches!(op, Op::Delete(_))));
        assert_eq!(calls[0].len(), MAX_TRANSACT_ITEMS);
        assert!(matches!(calls[1].as_slice(), [Op::DeleteOlder(_, 2)]));
        assert!(calls[2..]
            .iter()
            .all(|call| call[0] == Op::CheckVersion(2) && call.len() <= MAX_TRANSACT_ITEMS));
        assert_eq!(count(&calls, |op| matches!(op, Op::Put(_))), 100);
        assert_eq!(calls.len(), 4);
        // AND every subscription of either state is written exactly once
        let mut touched: Vec<Subscription> = calls
            .iter()
            .flatten()
            .filter_map(|op| match op {
                Op::Put(sub) | Op::Delete(sub) | Op::DeleteOlder(sub, _) => Some(sub.clone()),
                _ => None,
            })
            .collect();
        touched.sort();
        let mut expected: Vec<Subscription> = subscriptions_of(&before)
            .into_iter()
            .chain(subscriptions_of(&after))
            .collect();
        expected.sort();
        assert_eq!(touched, expected);
    }

    #[test]
    fn deleting_a_webhook_of_100_clients_deletes_the_rest_unconditionally() {
        // GIVEN a webhook of 100 clients
        let mut hook = webhook("report.publish_status");
        hook.clients = clients("c", 100);
        // WHEN its deletion is planned
        let calls = plan(None, &SubscriptionChange::between(Some(&hook), None));
        // THEN the webhook and 99 items go first, the last item after
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].len(), MAX_TRANSACT_ITEMS);
        assert!(matches!(
            calls[1].as_slice(),
            [Op::Delete(Subscription {
                audience: Audience::Client(_),
                ..
            })]
        ));
    }

    #[test]
    fn a_small_limit_still_plans_every_write() {
        // GIVEN a limit of 3 and an edit of 5 puts and 4 deletes
        let mut before = webhook("report.publish_status");
        before.clients = clients("old", 4);
        let mut after = before.clone();
        after.clients = clients("new", 5);
        let change = SubscriptionChange::between(Some(&before), Some(&after));
        // WHEN planned
        let calls = plan_with(3, Some(7), &change);
        // THEN no call is over the limit and every write is there once
        assert!(calls.iter().all(|call| call.len() <= 3));
        assert_eq!(count(&calls, |op| matches!(op, Op::Put(_))), 5);
        assert_eq!(
            count(&calls, |op| matches!(
                op,
                Op::Delete(_) | Op::DeleteOlder(..)
            )),
            4
        );
    }
}
