//! [`StatsRecorder`] and [`StatsReader`] on the delivery-logs table (items in
//! [`items`]): the log writer adds a batch with one `UpdateItem` per webhook and
//! bucket (`ADD`) and one conditional `UpdateItem` per webhook and latest time; the
//! API reads a window with one `Query` of its buckets and one of the latest times.

mod items;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use webhooks_core::domain::health::{Granularity, LastSeen, StatsUpdate, Tally};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{StatsReader, StatsRecorder, StoreError};

use crate::error::sdk_error;
use crate::expr::Expression;
use crate::paging::query_pages;

/// The stats in the delivery-logs table.
#[derive(Clone, Debug)]
pub struct DynamoStatsStore {
    client: Client,
    table: String,
}

impl DynamoStatsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// One `UpdateItem`; `Ok(false)` when its condition failed.
    async fn update(&self, key: items::Item, expr: &Expression) -> Result<bool, StoreError> {
        expr.debug_check();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_update_expression(expr.update.clone())
            .set_condition_expression(expr.condition.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(sdk_error("UpdateItem")(error)),
        }
    }

    async fn query(&self, expr: &Expression) -> Result<Vec<items::Item>, StoreError> {
        expr.debug_check();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .set_key_condition_expression(expr.condition.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values());
        query_pages(query, usize::MAX, Ok).await
    }
}

#[async_trait]
impl StatsRecorder for DynamoStatsStore {
    /// Every addition is tried; the first failure is answered.
    async fn record(&self, update: &StatsUpdate) -> Result<(), StoreError> {
        let mut first_error = None;
        for (bucket, tally) in &update.buckets {
            let outcome = match items::add_tally(bucket, tally) {
                Ok(expr) => self.update(items::bucket_key(bucket), &expr).await,
                Err(error) => Err(error),
            };
            if let Err(error) = outcome {
                first_error.get_or_insert(error);
            }
        }
        for (webhook, seen) in &update.last {
            for (sk, at) in [
                ("last#success", seen.success),
                ("last#failure", seen.failure),
            ] {
                let Some(at) = at else { continue };
                let outcome = match items::move_forward(at) {
                    Ok(expr) => self.update(items::key(webhook, sk.to_owned()), &expr).await,
                    Err(error) => Err(error),
                };
                if let Err(error) = outcome {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[async_trait]
impl StatsReader for DynamoStatsStore {
    async fn buckets(
        &self,
        webhook: &WebhookId,
        granularity: Granularity,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, Tally)>, StoreError> {
        let expr = items::buckets_query(webhook, granularity, from, to)?;
        self.query(&expr)
            .await?
            .iter()
            .map(items::decode_bucket)
            .collect()
    }

    async fn last_seen(&self, webhook: &WebhookId) -> Result<LastSeen, StoreError> {
        let mut seen = LastSeen::default();
        for item in self.query(&items::last_seen_query(webhook)?).await? {
            match items::decode_last(&item)? {
                (sk, at) if sk == "last#success" => seen.success = Some(at),
                (_, at) => seen.failure = Some(at),
            }
        }
        Ok(seen)
    }
}
