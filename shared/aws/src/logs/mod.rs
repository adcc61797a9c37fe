//! The delivery-logs table: partition key `webhook_id`, sort key `sk` =
//! `{at}#{delivery_id}#{attempt:04}` (newest last), so a query with
//! ScanIndexForward=false reads newest first. An item is the logged attempt's JSON
//! plus `sk` and the TTL attribute `expires_at` (unix seconds: `at` + retention).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use webhooks_core::domain::delivery_log::{LoggedAttempt, Outcome};
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{LogReader, Page, StoreError};

use crate::error::mapping_error;
use crate::expr::Expression;
use crate::paging::{before_listing, query_pages};

mod append;

/// Sort keys are at most 1024 bytes; a longer cursor is not one of ours.
const MAX_CURSOR_BYTES: usize = 1024;

type Item = HashMap<String, AttributeValue>;

#[derive(Serialize)]
struct LogItemRef<'a> {
    #[serde(flatten)]
    attempt: &'a LoggedAttempt,
    sk: String,
    expires_at: i64,
}

#[derive(Deserialize)]
struct LogItem {
    #[serde(flatten)]
    attempt: LoggedAttempt,
    #[allow(dead_code)]
    sk: String,
}

/// [`LogReader`] on the delivery-logs table: what the API holds (it reads the log,
/// and a retention is no business of it).
#[derive(Clone, Debug)]
pub struct DynamoLogReader {
    client: Client,
    table: String,
}

/// The whole [`LogStore`] on the delivery-logs table: the reader, plus appending
/// items that expire after the retention (the log writer).
#[derive(Clone, Debug)]
pub struct DynamoLogStore {
    reader: DynamoLogReader,
    retention: Duration,
}

impl DynamoLogStore {
    /// `retention` sets each item's `expires_at` (`LOG_RETENTION_DAYS`).
    pub fn new(client: Client, table: impl Into<String>, retention: Duration) -> Self {
        Self {
            reader: DynamoLogReader::new(client, table),
            retention,
        }
    }

    pub fn table(&self) -> &str {
        &self.reader.table
    }

    fn to_item(&self, attempt: &LoggedAttempt) -> Result<Item, StoreError> {
        let retention = i64::try_from(self.retention.as_secs()).unwrap_or(i64::MAX / 2);
        serde_dynamo::to_item(LogItemRef {
            attempt,
            sk: attempt.record.sort_key(),
            expires_at: attempt.record.at.unix_seconds().saturating_add(retention),
        })
        .map_err(mapping_error("delivery log item"))
    }
}

impl DynamoLogReader {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Every page of a query of one webhook's partition, newest first, until
    /// `enough` items were read (all of them with `usize::MAX`).
    async fn query(
        &self,
        expr: &Expression,
        page_size: Option<usize>,
        enough: usize,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        self.query_in(expr, page_size, enough, false).await
    }

    /// [`query`](Self::query), newest first or (`oldest_first`) oldest first.
    async fn query_in(
        &self,
        expr: &Expression,
        page_size: Option<usize>,
        enough: usize,
        oldest_first: bool,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        expr.debug_check();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .scan_index_forward(oldest_first)
            .set_key_condition_expression(expr.condition.clone())
            .set_filter_expression(expr.filter.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .set_limit(page_size.map(|n| i32::try_from(n).unwrap_or(i32::MAX)));
        query_pages(query, enough, |item| {
            let read: LogItem =
                serde_dynamo::from_item(item).map_err(mapping_error("delivery log item"))?;
            Ok(read.attempt)
        })
        .await
    }
}

/// A webhook's log, newest first: before the cursor (a sort key) when there is one,
/// of one outcome when asked.
fn list_query(
    webhook: &WebhookId,
    outcome: Option<Outcome>,
    before: Option<&str>,
) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let partition = expr.name("webhook_id");
    let mut condition = format!("{partition} = {}", expr.value("webhook", webhook)?);
    if let Some(before) = before {
        let sk = expr.name("sk");
        condition.push_str(&format!(" AND {sk} < {}", expr.value("before", before)?));
    }
    expr.condition = Some(condition);
    if let Some(outcome) = outcome {
        let name = expr.name("outcome");
        expr.filter = Some(format!("{name} = {}", expr.value("outcome", outcome)?));
    }
    Ok(expr)
}

/// A webhook's attempts from `since` on: the sort key begins with the attempt's time.
fn since_query(webhook: &WebhookId, since: Timestamp) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let partition = expr.name("webhook_id");
    let sk = expr.name("sk");
    expr.condition = Some(format!(
        "{partition} = {} AND {sk} >= {}",
        expr.value("webhook", webhook)?,
        expr.value("since", since.to_string())?
    ));
    Ok(expr)
}

/// One delivery's attempts within a webhook's partition.
fn attempts_query(webhook: &WebhookId, delivery: &DeliveryId) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let partition = expr.name("webhook_id");
    expr.condition = Some(format!("{partition} = {}", expr.value("webhook", webhook)?));
    let delivery_id = expr.name("delivery_id");
    expr.filter = Some(format!(
        "{delivery_id} = {}",
        expr.value("delivery", delivery)?
    ));
    Ok(expr)
}

#[async_trait]
impl LogReader for DynamoLogStore {
    async fn list(
        &self,
        webhook: &WebhookId,
        outcome: Option<Outcome>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedAttempt>, StoreError> {
        self.reader.list(webhook, outcome, limit, cursor).await
    }

    async fn attempts(
        &self,
        webhook: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        self.reader.attempts(webhook, delivery).await
    }

    async fn since(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        self.reader.since(webhook, since, limit).await
    }
}

#[async_trait]
impl LogReader for DynamoLogReader {
    /// Queries newest first until the page is full (the outcome filter applies after
    /// DynamoDB reads, so a filtered page may take several calls); the cursor is the
    /// sort key of the page's last attempt.
    async fn list(
        &self,
        webhook: &WebhookId,
        outcome: Option<Outcome>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedAttempt>, StoreError> {
        if let Some(empty) = before_listing(cursor, MAX_CURSOR_BYTES, limit)? {
            return Ok(empty);
        }
        let expr = list_query(webhook, outcome, cursor)?;
        // One more than the page tells whether another follows. Without a filter,
        // DynamoDB's Limit reads just that many.
        let wanted = limit.saturating_add(1);
        let page_size = outcome.is_none().then_some(wanted);
        let items = self.query(&expr, page_size, wanted).await?;
        Ok(Page::from_one_more(items, limit, |a| a.record.sort_key()))
    }

    /// Reads the webhook's partition filtered by delivery id (the table has no index
    /// by delivery), in attempt order.
    async fn attempts(
        &self,
        webhook: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        let expr = attempts_query(webhook, delivery)?;
        let mut attempts = self.query(&expr, None, usize::MAX).await?;
        attempts.sort_by_key(|a| (a.record.attempt, a.record.at));
        Ok(attempts)
    }

    /// One key-condition query from `since` on, oldest first: it reads that part of the
    /// partition only, `limit` items at most.
    async fn since(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let expr = since_query(webhook, since)?;
        self.query_in(&expr, Some(limit), limit, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhooks_core::domain::delivery_log::DeliveryLogRecord;
    use webhooks_core::domain::ids::EventId;

    fn attempt() -> LoggedAttempt {
        LoggedAttempt {
            record: DeliveryLogRecord {
                delivery_id: DeliveryId::from_trusted("dlv_1"),
                webhook_id: WebhookId::from_trusted("wh_1"),
                event_id: EventId::from_trusted("evt_1"),
                event: "report.publish_status".into(),
                client_id: "acme".into(),
                attempt: 2,
                outcome: Outcome::Retrying,
                status_code: Some(503),
                elapsed_ms: Some(12),
                error: Some("receiver answered HTTP 503".into()),
                response_excerpt: None,
                at: Timestamp::parse("2026-11-28T12:00:05Z").unwrap(),
                next_attempt_at: Some(Timestamp::parse("2026-11-28T12:05:05Z").unwrap()),
            },
            occurred_at: Timestamp::parse("2026-11-28T12:00:00Z").unwrap(),
            data: serde_json::json!({"n": 1.5, "big": 18446744073709551615u64, "neg": -3,
                "list": [true, null, "x"], "empty": {}}),
        }
    }

    fn store() -> DynamoLogStore {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        DynamoLogStore::new(
            Client::from_conf(config),
            "logs",
            Duration::from_secs(30 * 86400),
        )
    }

    #[test]
    fn an_item_is_the_record_json_with_sort_key_and_expiry() {
        let logged = attempt();
        let item = store().to_item(&logged).unwrap();
        assert_eq!(item["webhook_id"], AttributeValue::S("wh_1".into()));
        assert_eq!(
            item["sk"],
            AttributeValue::S("2026-11-28T12:00:05.000Z#dlv_1#0002".into())
        );
        let expected = logged.record.at.unix_seconds() + 30 * 86400;
        assert_eq!(item["expires_at"], AttributeValue::N(expected.to_string()));
        assert_eq!(item["outcome"], AttributeValue::S("retrying".into()));
        assert_eq!(item["status_code"], AttributeValue::N("503".into()));
        assert!(matches!(item["data"], AttributeValue::M(_)));
    }

    #[test]
    fn items_read_back_as_the_logged_attempt() {
        let logged = attempt();
        let item = store().to_item(&logged).unwrap();
        let read: LogItem = serde_dynamo::from_item(item).unwrap();
        assert_eq!(read.attempt, logged);
    }

    #[test]
    fn every_expression_uses_exactly_the_placeholders_it_defines() {
        let webhook = WebhookId::from_trusted("wh_1");
        let mut expressions =
            vec![attempts_query(&webhook, &DeliveryId::from_trusted("dlv_1")).unwrap()];
        for outcome in [None, Some(Outcome::Succeeded)] {
            for before in [None, Some("2026-11-28T12:00:05.000Z#dlv_1#0002")] {
                expressions.push(list_query(&webhook, outcome, before).unwrap());
            }
        }
        for expr in expressions {
            assert_eq!(expr.check(), Ok(()), "{expr:?}");
        }
    }
}
