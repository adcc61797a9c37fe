//! The stats items of the delivery-logs table and the expressions that add to and
//! read them. They live in partitions of their own, `stats#{webhook_id}`, so a
//! webhook's log queries never meet them:
//! - a bucket, sort key `{granularity}#{start}` (`hour#2026-01-01T10:00:00.000Z`):
//!   `succeeded`, `failed`, `l0`…`l12` (latency histogram counts, absent when 0),
//!   `expires_at`;
//! - the latest success and failure, sort keys `last#success` and `last#failure`:
//!   `at` (RFC 3339), `expires_at` (`at` + 8 days).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use webhooks_core::domain::health::{BucketKey, Granularity, LatencyHistogram, Tally};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::StoreError;

use crate::error::mapping_error;
use crate::expr::Expression;

pub(super) type Item = HashMap<String, AttributeValue>;

/// How long the latest-success and latest-failure items are kept after their time.
pub(super) const LAST_SEEN_RETENTION: Duration = Duration::from_secs(8 * 86_400);

pub(super) fn partition(webhook: &WebhookId) -> String {
    format!("stats#{webhook}")
}

fn bucket_sort_key(granularity: Granularity, start: Timestamp) -> String {
    format!("{}#{start}", granularity.as_str())
}

/// The key of an item: its partition and sort key.
pub(super) fn key(webhook: &WebhookId, sk: String) -> Item {
    HashMap::from([
        (
            "webhook_id".to_owned(),
            AttributeValue::S(partition(webhook)),
        ),
        ("sk".to_owned(), AttributeValue::S(sk)),
    ])
}

pub(super) fn bucket_key(bucket: &BucketKey) -> Item {
    key(
        &bucket.webhook_id,
        bucket_sort_key(bucket.granularity, bucket.start),
    )
}

/// `ADD` the tally's counts to a bucket and set its expiry.
pub(super) fn add_tally(bucket: &BucketKey, tally: &Tally) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let mut adds = vec![
        format!(
            "{} {}",
            expr.name("succeeded"),
            expr.value("s", tally.succeeded)?
        ),
        format!("{} {}", expr.name("failed"), expr.value("f", tally.failed)?),
    ];
    for (index, &count) in tally.latency.counts.iter().enumerate() {
        if count > 0 {
            let attribute = format!("l{index}");
            adds.push(format!(
                "{} {}",
                expr.name(&attribute),
                expr.value(&attribute, count)?
            ));
        }
    }
    let expires = expr.name("expires_at");
    let at = expr.value("e", bucket.expires_at().unix_seconds())?;
    expr.update = Some(format!("ADD {} SET {expires} = {at}", adds.join(", ")));
    Ok(expr)
}

/// Sets a latest time unless a later one is stored (a failed condition is no error).
pub(super) fn move_forward(at: Timestamp) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let name = expr.name("at");
    let value = expr.value("at", at.to_string())?;
    let expires = expr.name("expires_at");
    let expires_at = expr.value("e", at.plus(LAST_SEEN_RETENTION).unix_seconds())?;
    expr.update = Some(format!("SET {name} = {value}, {expires} = {expires_at}"));
    expr.condition = Some(format!("attribute_not_exists({name}) OR {name} < {value}"));
    Ok(expr)
}

/// A webhook's buckets of one granularity from `from` to `to`, both included.
pub(super) fn buckets_query(
    webhook: &WebhookId,
    granularity: Granularity,
    from: Timestamp,
    to: Timestamp,
) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let pk = expr.name("webhook_id");
    let sk = expr.name("sk");
    expr.condition = Some(format!(
        "{pk} = {} AND {sk} BETWEEN {} AND {}",
        expr.value("pk", partition(webhook))?,
        expr.value("from", bucket_sort_key(granularity, from))?,
        expr.value("to", bucket_sort_key(granularity, to))?,
    ));
    Ok(expr)
}

/// A webhook's two latest-time items.
pub(super) fn last_seen_query(webhook: &WebhookId) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let pk = expr.name("webhook_id");
    let sk = expr.name("sk");
    expr.condition = Some(format!(
        "{pk} = {} AND begins_with({sk}, {})",
        expr.value("pk", partition(webhook))?,
        expr.value("prefix", "last#")?,
    ));
    Ok(expr)
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(text),
        _ => Err(mapping_error("stats item")(format!(
            "no text attribute {name}"
        ))),
    }
}

fn number(item: &Item, name: &str) -> Result<u64, StoreError> {
    match item.get(name) {
        None => Ok(0),
        Some(AttributeValue::N(n)) => n.parse().map_err(mapping_error("stats item")),
        Some(_) => Err(mapping_error("stats item")(format!(
            "{name} is not a number"
        ))),
    }
}

/// A bucket item as (start, tally).
pub(super) fn decode_bucket(item: &Item) -> Result<(Timestamp, Tally), StoreError> {
    let sk = text(item, "sk")?;
    let start = sk
        .split_once('#')
        .and_then(|(_, start)| Timestamp::parse(start))
        .ok_or_else(|| mapping_error("stats item")(format!("bad bucket sort key {sk:?}")))?;
    let mut latency = LatencyHistogram::default();
    for (index, count) in latency.counts.iter_mut().enumerate() {
        *count = number(item, &format!("l{index}"))?;
    }
    Ok((
        start,
        Tally {
            succeeded: number(item, "succeeded")?,
            failed: number(item, "failed")?,
            latency,
        },
    ))
}

/// A latest-time item as (its sort key, its time).
pub(super) fn decode_last(item: &Item) -> Result<(String, Timestamp), StoreError> {
    let at = text(item, "at")?;
    let at = Timestamp::parse(at)
        .ok_or_else(|| mapping_error("stats item")(format!("bad time {at:?}")))?;
    Ok((text(item, "sk")?.to_owned(), at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Timestamp {
        Timestamp::parse("2026-01-01T10:00:00Z").unwrap()
    }

    #[test]
    fn every_expression_defines_exactly_the_placeholders_it_uses() {
        let bucket = BucketKey {
            webhook_id: WebhookId::from_trusted("wh_1"),
            granularity: Granularity::Hour,
            start: start(),
        };
        let mut tally = Tally::default();
        tally.latency.add(30);
        for expr in [
            add_tally(&bucket, &tally).unwrap(),
            add_tally(&bucket, &Tally::default()).unwrap(),
            move_forward(start()).unwrap(),
            buckets_query(&bucket.webhook_id, Granularity::Slot, start(), start()).unwrap(),
            last_seen_query(&bucket.webhook_id).unwrap(),
        ] {
            expr.check().unwrap();
        }
    }

    #[test]
    fn a_bucket_item_decodes_to_its_start_and_tally() {
        let mut item = bucket_key(&BucketKey {
            webhook_id: WebhookId::from_trusted("wh_1"),
            granularity: Granularity::Day,
            start: start(),
        });
        item.insert("succeeded".into(), AttributeValue::N("3".into()));
        item.insert("l2".into(), AttributeValue::N("3".into()));
        let (at, tally) = decode_bucket(&item).unwrap();
        assert_eq!(at, start());
        assert_eq!((tally.succeeded, tally.failed), (3, 0));
        assert_eq!(tally.latency.counts[2], 3);
        assert_eq!(item["webhook_id"], AttributeValue::S("stats#wh_1".into()));
    }
}
