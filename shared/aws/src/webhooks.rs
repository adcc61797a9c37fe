//! The webhooks table's store: partition key `id` (S); GSI `by_event` (partition
//! `event`, sort `id`, projection ALL) for fan-out. Item shapes: `docs/storage.md`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{
    Page, StoreError, SubscriberView, WebhookFilter, WebhookReader, WebhookRegistry, WebhookWriter,
};

use crate::error::sdk_error;
use crate::expr::{all_of, Expression};
use crate::paging::{before_listing, query_pages};
use crate::webhook_item::{from_item, key, to_item};

/// The GSI that finds an event type's webhooks.
pub const EVENT_INDEX: &str = "by_event";

/// Cursors are webhook ids; DynamoDB keys are at most 2048 bytes.
const MAX_CURSOR_BYTES: usize = 2048;

/// Insert: only where no item has this id.
fn insert_condition() -> Expression {
    let mut expr = Expression::default();
    let id = expr.name("id");
    expr.condition = Some(format!("attribute_not_exists({id})"));
    expr
}

/// Replace: only the version the caller read.
fn replace_condition(expected_version: u64) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let id = expr.name("id");
    let version = expr.name("version");
    let expected = expr.value("expected", expected_version)?;
    expr.condition = Some(format!("attribute_exists({id}) AND {version} = {expected}"));
    Ok(expr)
}

/// A listing's filter, plus `id > after` for the pages after the first.
fn list_filter(filter: &WebhookFilter, after: Option<&str>) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let mut clauses = Vec::new();
    if let Some(after) = after {
        let id = expr.name("id");
        clauses.push(format!("{id} > {}", expr.value("after", after)?));
    }
    if let Some(event) = &filter.event {
        let name = expr.name("event");
        clauses.push(format!("{name} = {}", expr.value("event", event)?));
    }
    if let Some(enabled) = filter.enabled {
        let name = expr.name("enabled");
        clauses.push(format!("{name} = {}", expr.value("enabled", enabled)?));
    }
    if let Some(client) = &filter.client {
        // `clients` is the string "all" or a list of client ids.
        let clients = expr.name("clients");
        let all = expr.value("all", ClientScope::all())?;
        let client = expr.value("client", client)?;
        clauses.push(format!(
            "({clients} = {all} OR contains({clients}, {client}))"
        ));
    }
    expr.filter = all_of(clauses);
    Ok(expr)
}

/// The `by_event` query of one event type.
fn subscribers_query(event_type: &str) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let event = expr.name("event");
    expr.condition = Some(format!("{event} = {}", expr.value("event", event_type)?));
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
}

impl DynamoWebhookStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn put(&self, webhook: &Webhook, expr: &Expression) -> Result<(), PutFailure> {
        expr.debug_check();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(webhook).map_err(PutFailure::Store)?))
            .set_condition_expression(expr.condition.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .map(drop)
            .map_err(|error| match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    PutFailure::Condition {
                        existing: failed.item().is_some(),
                    }
                }
                _ => PutFailure::Store(sdk_error("PutItem")(error)),
            })
    }
}

/// Why a conditional put did not happen.
enum PutFailure {
    /// The condition failed; `existing` when DynamoDB returned the item it found.
    Condition {
        existing: bool,
    },
    Store(StoreError),
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
    async fn replace(&self, webhook: &Webhook, expected_version: u64) -> Result<(), StoreError> {
        match self
            .put(webhook, &replace_condition(expected_version)?)
            .await
        {
            Ok(()) => Ok(()),
            Err(PutFailure::Condition { existing: true }) => Err(StoreError::Conflict),
            // DynamoDB returns the item it found when asked; without it (an older
            // emulator, or the item is gone), a read tells a stale version from a
            // missing webhook.
            Err(PutFailure::Condition { existing: false }) => match self.get(&webhook.id).await? {
                Some(_) => Err(StoreError::Conflict),
                None => Err(StoreError::NotFound),
            },
            Err(PutFailure::Store(error)) => Err(error),
        }
    }
}

#[async_trait]
impl SubscriberView for DynamoWebhookStore {
    /// Every page of the `by_event` index for the event type. The index is eventually
    /// consistent: a webhook created a moment ago may miss one fan-out.
    async fn subscribers(&self, event_type: &str) -> Result<Vec<Webhook>, StoreError> {
        let expr = subscribers_query(event_type)?;
        expr.debug_check();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(EVENT_INDEX)
            .set_key_condition_expression(expr.condition.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values());
        query_pages(query, usize::MAX, from_item).await
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
        match self.put(webhook, &insert_condition()).await {
            Ok(()) => Ok(()),
            Err(PutFailure::Condition { .. }) => Err(StoreError::Conflict),
            Err(PutFailure::Store(error)) => Err(error),
        }
    }

    async fn delete(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(id)?))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_error("DeleteItem"))?;
        output.attributes.map(from_item).transpose()
    }

    /// Webhooks in id order. A Scan returns items in hash order, so every page scans
    /// the whole table (strongly consistent, filtered server-side) and keeps the
    /// `limit` smallest ids greater than the cursor, which is the last id returned.
    /// Pages therefore never overlap or skip, whatever is inserted or deleted between
    /// them. A full scan per page is fine for an admin listing of at most thousands of
    /// webhooks; a listing by event type could Query `by_event` in id order instead,
    /// were it ever needed (at the price of the index's eventual consistency).
    async fn list(
        &self,
        filter: &WebhookFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>, StoreError> {
        if let Some(empty) = before_listing(cursor, MAX_CURSOR_BYTES, limit)? {
            return Ok(empty);
        }
        let expr = list_filter(filter, cursor)?;
        expr.debug_check();
        // The `limit + 1` smallest matches: one more than the page tells whether
        // another page follows.
        let mut smallest: BTreeMap<WebhookId, Webhook> = BTreeMap::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_filter_expression(expr.filter.clone())
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error("Scan"))?;
            for item in output.items.unwrap_or_default() {
                let webhook = from_item(item)?;
                // The server-side filter already did this; checking again keeps the
                // rule in one place (the core's) should the two ever differ.
                if filter.matches(&webhook) {
                    smallest.insert(webhook.id.clone(), webhook);
                    if smallest.len() > limit + 1 {
                        smallest.pop_last();
                    }
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let items: Vec<Webhook> = smallest.into_values().collect();
        Ok(Page::from_one_more(items, limit, |w| {
            w.id.as_str().to_owned()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expression_uses_exactly_the_placeholders_it_defines() {
        let filters = [
            WebhookFilter::default(),
            WebhookFilter {
                event: Some("report.publish_status".into()),
                ..WebhookFilter::default()
            },
            WebhookFilter {
                client: Some("acme".into()),
                ..WebhookFilter::default()
            },
            WebhookFilter {
                enabled: Some(false),
                ..WebhookFilter::default()
            },
            WebhookFilter {
                event: Some("report.publish_status".into()),
                client: Some("acme".into()),
                enabled: Some(true),
            },
        ];
        let mut expressions = vec![
            insert_condition(),
            replace_condition(4).unwrap(),
            subscribers_query("report.publish_status").unwrap(),
            failing_since_update(None).unwrap(),
            failing_since_update(Some(Timestamp::parse("2026-11-28T12:00:00Z").unwrap())).unwrap(),
        ];
        for filter in &filters {
            expressions.push(list_filter(filter, None).unwrap());
            expressions.push(list_filter(filter, Some("wh_1")).unwrap());
        }
        for expr in expressions {
            assert_eq!(expr.check(), Ok(()), "{expr:?}");
        }
    }

    #[test]
    fn an_unfiltered_first_page_sends_no_expression_at_all() {
        let expr = list_filter(&WebhookFilter::default(), None).unwrap();
        assert!(expr.filter.is_none() && expr.names().is_none() && expr.values().is_none());
    }

    #[test]
    fn clearing_failing_since_sends_no_values() {
        let expr = failing_since_update(None).unwrap();
        assert_eq!(expr.update.as_deref(), Some("REMOVE #failingsince"));
        assert!(expr.values().is_none());
    }
}
