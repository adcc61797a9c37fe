//! The webhooks table's store: partition key `id` (S). Besides the webhook items it
//! holds their subscription items and a marker (`subscription_item.rs`), with two
//! GSIs: `by_subscription` (partition `sub`, sort `webhook_id`) for fan-out and
//! listing, `by_event` (partition `event`, sort `id`) for listing by event type and
//! the fan-out of before the backfill; both project ALL. Shapes: `docs/storage.md`.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use tracing::debug;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::subscription::{Subscription, SubscriptionChange};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::domain::webhook::Webhook;
use webhooks_core::ports::{
    Page, StoreError, SubscriberView, WebhookFilter, WebhookReader, WebhookRegistry, WebhookWriter,
};

use crate::error::sdk_error;
use crate::expr::Expression;
use crate::paging::{before_listing, query_pages};
use crate::schema_marker::SchemaMarker;
use crate::subscription_item::{from_subscription_item, partition, SUBSCRIPTION_INDEX};
use crate::webhook_item::{from_item, key};
use crate::webhook_list::{query_page, scan_page};
use crate::webhook_writes::{write, Anchor, Written};

/// The GSI that finds an event type's webhooks.
pub const EVENT_INDEX: &str = "by_event";

/// Cursors are webhook ids; DynamoDB keys are at most 2048 bytes.
const MAX_CURSOR_BYTES: usize = 2048;

/// A deletion that keeps meeting an edit gives up after this many tries.
const DELETE_TRIES: usize = 3;

/// The `by_event` query of one event type (fan-out before the backfill).
fn subscribers_query(event_type: &str) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let event = expr.name("event");
    expr.condition = Some(format!("{event} = {}", expr.value("event", event_type)?));
    Ok(expr)
}

/// The `by_subscription` query of one subscription.
fn subscription_query(subscription: &Subscription) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let sub = expr.name("sub");
    expr.condition = Some(format!(
        "{sub} = {}",
        expr.value("sub", partition(subscription))?
    ));
    Ok(expr)
}

/// Sets (only where absent: the earliest start of the run stays) or removes
/// `failing_since` of an existing webhook; `version` is untouched.
fn failing_since_update(failing_since: Option<Timestamp>) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let id = expr.name("id");
    let name = expr.name("failing_since");
    expr.update = Some(match failing_since {
        Some(at) => format!(
            "SET {name} = if_not_exists({name}, {})",
            expr.value("failingsince", at)?
        ),
        None => format!("REMOVE {name}"),
    });
    expr.condition = Some(format!("attribute_exists({id})"));
    Ok(expr)
}

/// [`WebhookStore`] on the webhooks table.
#[derive(Clone, Debug)]
pub struct DynamoWebhookStore {
    client: Client,
    table: String,
    marker: Arc<SchemaMarker>,
}

impl DynamoWebhookStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            marker: Arc::new(SchemaMarker::new()),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The webhooks of one query of an index, every page.
    async fn query_all(
        &self,
        index: &str,
        expr: &Expression,
        decode: fn(crate::subscription_item::Item) -> Result<Webhook, StoreError>,
    ) -> Result<Vec<Webhook>, StoreError> {
        expr.debug_check();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .set_key_condition_expression(expr.condition.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values());
        query_pages(query, usize::MAX, decode).await
    }

    /// Before the backfill: every webhook of the type, filtered here.
    async fn legacy_subscribers(
        &self,
        event_type: &str,
        client_id: &str,
    ) -> Result<Vec<Webhook>, StoreError> {
        let every = self
            .query_all(EVENT_INDEX, &subscribers_query(event_type)?, from_item)
            .await?;
        Ok(every
            .into_iter()
            .filter(|webhook| webhook.wants(event_type, client_id))
            .collect())
    }
}

#[async_trait]
impl WebhookReader for DynamoWebhookStore {
    async fn get(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)?))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error("GetItem"))?;
        output.item.map(from_item).transpose()
    }
}

#[async_trait]
impl WebhookWriter for DynamoWebhookStore {
    /// Reads the stored state (its subscriptions are what the write removes), then
    /// writes the new one with its subscriptions, on the version read.
    async fn replace(&self, webhook: &Webhook, expected_version: u64) -> Result<(), StoreError> {
        let stored = self.get(&webhook.id).await?.ok_or(StoreError::NotFound)?;
        if stored.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let change = SubscriptionChange::between(Some(&stored), Some(webhook));
        let anchor = Anchor::Replace {
            webhook,
            expected: expected_version,
        };
        match write(&self.client, &self.table, anchor, &change).await? {
            Written::Done => Ok(()),
            Written::AnchorRefused => match self.get(&webhook.id).await? {
                Some(_) => Err(StoreError::Conflict),
                None => Err(StoreError::NotFound),
            },
        }
    }
}

#[async_trait]
impl SubscriberView for DynamoWebhookStore {
    /// Two queries of `by_subscription` (the client's subscriptions and everyone's)
    /// once the backfill has run; before, every webhook of the type from `by_event`.
    /// Both indexes are eventually consistent: a webhook written a moment ago may
    /// miss one fan-out.
    async fn subscribers(
        &self,
        event_type: &str,
        client_id: &str,
    ) -> Result<Vec<Webhook>, StoreError> {
        if !self.marker.present(&self.client, &self.table).await? {
            return self.legacy_subscribers(event_type, client_id).await;
        }
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        for subscription in Subscription::matching(event_type, client_id) {
            let expr = subscription_query(&subscription)?;
            for webhook in self
                .query_all(SUBSCRIPTION_INDEX, &expr, from_subscription_item)
                .await?
            {
                if seen.insert(webhook.id.clone()) {
                    found.push(webhook);
                }
            }
        }
        debug!(
            event_type,
            client_id,
            found = found.len(),
            "subscribers read"
        );
        Ok(found)
    }

    async fn set_failing_since(
        &self,
        id: &WebhookId,
        failing_since: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let expr = failing_since_update(failing_since)?;
        expr.debug_check();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)?))
            .set_update_expression(expr.update.clone())
            .set_condition_expression(expr.condition.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::NotFound)
            }
            Err(error) => Err(sdk_error("UpdateItem")(error)),
        }
    }
}

#[async_trait]
impl WebhookRegistry for DynamoWebhookStore {
    async fn insert(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let change = SubscriptionChange::between(None, Some(webhook));
        match write(&self.client, &self.table, Anchor::Insert(webhook), &change).await? {
            Written::Done => Ok(()),
            Written::AnchorRefused => Err(StoreError::Conflict),
        }
    }

    /// Reads the webhook, then deletes it and its subscriptions on the version read
    /// (again, a few times, when an edit came between).
    async fn delete(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        for _ in 0..DELETE_TRIES {
            let Some(stored) = self.get(id).await? else {
                return Ok(None);
            };
            let change = SubscriptionChange::between(Some(&stored), None);
            let anchor = Anchor::Delete {
                id,
                expected: stored.version,
            };
            if write(&self.client, &self.table, anchor, &change).await? == Written::Done {
                return Ok(Some(stored));
            }
        }
        Err(StoreError::Conflict)
    }

    /// Webhooks in id order from an index (`webhook_list.rs`); before the backfill, a
    /// listing without an event type scans the table.
    async fn list(
        &self,
        filter: &WebhookFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>, StoreError> {
        if let Some(empty) = before_listing(cursor, MAX_CURSOR_BYTES, limit)? {
            return Ok(empty);
        }
        if filter.event.is_some() || self.marker.present(&self.client, &self.table).await? {
            query_page(&self.client, &self.table, filter, limit, cursor).await
        } else {
            scan_page(&self.client, &self.table, filter, limit, cursor).await
        }
    }
}

#[cfg(test)]
mod tests {
    use webhooks_core::domain::subscription::Audience;

    use super::*;

    #[test]
    fn every_expression_uses_exactly_the_placeholders_it_defines() {
        let expressions = [
            subscribers_query("report.publish_status").unwrap(),
            subscription_query(&Subscription {
                event: "report.publish_status".into(),
                audience: Audience::Client("acme".into()),
            })
            .unwrap(),
            failing_since_update(None).unwrap(),
            failing_since_update(Some(Timestamp::parse("2026-11-28T12:00:00Z").unwrap())).unwrap(),
            crate::webhook_writes::older_than(3).unwrap(),
        ];
        for expr in expressions {
            assert_eq!(expr.check(), Ok(()), "{expr:?}");
        }
    }

    #[test]
    fn clearing_failing_since_sends_no_values() {
        let expr = failing_since_update(None).unwrap();
        assert_eq!(expr.update.as_deref(), Some("REMOVE #failingsince"));
        assert!(expr.values().is_none());
    }
}
