//! The items of the webhooks table besides the webhooks: one subscription item per
//! (event type, client) of an enabled webhook, and the marker that the subscriptions
//! were backfilled. Shapes: `docs/storage.md`.
//!
//! A subscription item is keyed `id` = `sub#{sub}#{webhook_id}`, where `sub` (the
//! `by_subscription` index's partition) is `{event}#all` for a webhook of every client
//! or `{event}#client:{client_id}`; `webhook_id` is the index's sort key, `version` the
//! webhook's version it copies, and `hook` (M) the webhook's attributes that delivery
//! reads: all of its item but `failing_since`, which changes without a new version
//! (delivery reads it from the webhook item before acting on it). Subscription items
//! have no top-level `event`, so `by_event` does not hold them; webhook items are in
//! `by_subscription` too, under the partition `webhooks` (the listing's).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::subscription::{subscriptions_of, Audience, Subscription};
use webhooks_core::domain::webhook::Webhook;
use webhooks_core::ports::StoreError;

use crate::error::mapping_error;
use crate::webhook_item::{from_item, to_item};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The GSI of the subscription items: partition `sub`, sort `webhook_id`.
pub const SUBSCRIPTION_INDEX: &str = "by_subscription";

/// The marker item's `id`: present once every webhook has its subscription items.
pub const MARKER_ID: &str = "meta#subscriptions";
/// The marker's `schema_version` this code writes and needs.
pub const SCHEMA_VERSION: u64 = 1;

/// The `sub` attribute of a subscription: the index partition fan-out queries.
pub(crate) fn partition(subscription: &Subscription) -> String {
    match &subscription.audience {
        Audience::Everyone => format!("{}#all", subscription.event),
        Audience::Client(client) => format!("{}#client:{client}", subscription.event),
    }
}

/// The subscription a `sub` attribute names (event types hold no `#`).
pub(crate) fn parse_partition(sub: &str) -> Option<Subscription> {
    let (event, audience) = sub.split_once('#')?;
    let audience = match audience {
        "all" => Audience::Everyone,
        other => Audience::Client(other.strip_prefix("client:")?.to_owned()),
    };
    Some(Subscription {
        event: event.to_owned(),
        audience,
    })
}

/// The item key (`id`) of a webhook's subscription.
pub(crate) fn item_id(subscription: &Subscription, webhook: &WebhookId) -> String {
    format!("sub#{}#{webhook}", partition(subscription))
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The key of a webhook's subscription item.
pub(crate) fn key(subscription: &Subscription, webhook: &WebhookId) -> Item {
    HashMap::from([("id".to_owned(), s(item_id(subscription, webhook)))])
}

/// The subscription item of `webhook` for `subscription`.
pub(crate) fn to_subscription_item(
    subscription: &Subscription,
    webhook: &Webhook,
) -> Result<Item, StoreError> {
    let mut copy = webhook.clone();
    copy.failing_since = None;
    let mut hook = to_item(&copy)?;
    hook.remove("sub");
    hook.remove("webhook_id");
    Ok(HashMap::from([
        ("id".to_owned(), s(item_id(subscription, &webhook.id))),
        ("sub".to_owned(), s(partition(subscription))),
        ("webhook_id".to_owned(), s(webhook.id.as_str())),
        (
            "version".to_owned(),
            AttributeValue::N(webhook.version.to_string()),
        ),
        ("hook".to_owned(), AttributeValue::M(hook)),
    ]))
}

/// The webhook a subscription item copies (`failing_since` unknown: `None`).
pub(crate) fn from_subscription_item(mut item: Item) -> Result<Webhook, StoreError> {
    match item.remove("hook") {
        Some(AttributeValue::M(hook)) => from_item(hook),
        _ => Err(mapping_error("subscription item")("no `hook` map")),
    }
}

/// True for an item of the table that is a subscription (it has `hook`).
pub(crate) fn is_subscription(item: &Item) -> bool {
    item.contains_key("hook")
}

/// Every item the table holds for `webhook` once the subscriptions are in place: its
/// webhook item and one subscription item per subscription, as its creation writes
/// them (in a transaction). For loading many webhooks at once with `BatchWriteItem`
/// (the fan-out benchmark's tables), where a transaction per webhook would be slow.
pub fn items_of(webhook: &Webhook) -> Result<Vec<Item>, StoreError> {
    let mut items = vec![to_item(webhook)?];
    for subscription in subscriptions_of(webhook) {
        items.push(to_subscription_item(&subscription, webhook)?);
    }
    Ok(items)
}

/// The marker item, written last by the backfill: with it, fan-out and listing read
/// the subscription items.
pub fn marker(migrated_at: &str) -> Item {
    marker_item(migrated_at)
}

/// The marker item the backfill writes last.
pub(crate) fn marker_item(migrated_at: &str) -> Item {
    HashMap::from([
        ("id".to_owned(), s(MARKER_ID)),
        (
            "schema_version".to_owned(),
            AttributeValue::N(SCHEMA_VERSION.to_string()),
        ),
        ("migrated_at".to_owned(), s(migrated_at)),
    ])
}

/// True when a marker item says the subscriptions of this code's schema are there.
pub(crate) fn marker_is_current(item: &Item) -> bool {
    item.get("schema_version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|version| version >= SCHEMA_VERSION)
}

#[cfg(test)]
mod tests {
    use webhooks_core::domain::webhook::ClientScope;

    use super::*;

    /// The webhook items' fixture, of acme alone, failing since its creation, with a
    /// rate limit and a custom header.
    fn webhook() -> Webhook {
        let mut hook = crate::webhook_item::tests::webhook();
        hook.clients = ClientScope::Only(vec!["acme".into()]);
        hook.secret_ref = None;
        hook.failing_since = Some(hook.created_at);
        hook.rate_limit_per_second = Some(5);
        hook.header_names = vec!["X-Key".into()];
        hook
    }

    #[test]
    fn a_subscription_item_is_keyed_by_its_partition_and_copies_the_webhook() {
        // GIVEN a webhook of acme, failing since a moment
        let hook = webhook();
        let sub = Subscription {
            event: hook.event.clone(),
            audience: Audience::Client("acme".into()),
        };
        // WHEN its subscription item is made
        let item = to_subscription_item(&sub, &hook).unwrap();
        // THEN it is keyed for the index, has no top-level `event`, and reads back as
        // the webhook without failing_since
        assert_eq!(
            item["id"],
            s("sub#report.publish_status#client:acme#wh_01JDX3M5Q8Z0V6K2W9Y4T7R1AB")
        );
        assert_eq!(item["sub"], s("report.publish_status#client:acme"));
        assert_eq!(item["webhook_id"], s("wh_01JDX3M5Q8Z0V6K2W9Y4T7R1AB"));
        assert_eq!(item["version"], AttributeValue::N("3".into()));
        assert!(!item.contains_key("event"));
        assert!(is_subscription(&item));
        let mut expected = hook.clone();
        expected.failing_since = None;
        assert_eq!(from_subscription_item(item).unwrap(), expected);
    }

    #[test]
    fn a_webhooks_items_are_its_webhook_item_and_one_per_client_and_none_when_disabled() {
        // GIVEN a webhook of two clients
        let mut hook = webhook();
        hook.clients = ClientScope::Only(vec!["acme".into(), "globex".into()]);
        // WHEN its items are made
        let items = items_of(&hook).unwrap();
        // THEN the first is its webhook item, then one subscription item per client
        assert_eq!(items.len(), 3);
        assert_eq!(items[0], to_item(&hook).unwrap());
        let subs: Vec<_> = items[1..].iter().map(|i| i["sub"].clone()).collect();
        assert_eq!(
            subs,
            [
                s("report.publish_status#client:acme"),
                s("report.publish_status#client:globex")
            ]
        );
        // AND a disabled webhook has its webhook item only
        hook.enabled = false;
        assert_eq!(items_of(&hook).unwrap().len(), 1);
    }

    #[test]
    fn everyone_and_a_client_named_like_it_never_share_a_partition() {
        // GIVEN the all-clients subscription and one of a client called "all"
        let of = |audience| Subscription {
            event: "report.publish_status".into(),
            audience,
        };
        // THEN their partitions differ
        assert_eq!(
            partition(&of(Audience::Everyone)),
            "report.publish_status#all"
        );
        assert_eq!(
            partition(&of(Audience::Client("all".into()))),
            "report.publish_status#client:all"
        );
        // AND each partition reads back as its subscription
        for audience in [Audience::Everyone, Audience::Client("a#b:c".into())] {
            let sub = of(audience);
            assert_eq!(parse_partition(&partition(&sub)), Some(sub));
        }
    }

    #[test]
    fn only_a_marker_of_this_schema_or_later_counts() {
        assert!(marker_is_current(&marker_item("2026-12-03T00:00:00Z")));
        let mut old = marker_item("2026-12-03T00:00:00Z");
        old.insert("schema_version".into(), AttributeValue::N("0".into()));
        assert!(!marker_is_current(&old));
    }
}
