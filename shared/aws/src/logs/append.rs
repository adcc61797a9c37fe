//! Appending to the delivery-logs table. Each item is checked against DynamoDB's
//! limits (400 KB, 32 levels of nesting) before anything is sent, so an item DynamoDB
//! can never take is refused on its own, the same on the emulator (which takes it)
//! as on AWS. The others go in `BatchWriteItem` chunks of at most 25, resending what
//! DynamoDB leaves unprocessed. The answer says what happened to each attempt, as
//! the core's error kinds (`Refused` for a validation error); what that means for a
//! queue record is the core's business (`usecases::log_writer`).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::ports::{LogAppender, StoreError};

use super::{DynamoLogStore, Item};
use crate::error::{mapping_error, AwsError};
use crate::limits::{
    batches, item_size, nesting_depth, MAX_BATCH_WRITE_ITEMS, MAX_ITEM_BYTES, MAX_NESTING_DEPTH,
};

/// Calls per `BatchWriteItem` chunk while DynamoDB leaves items unprocessed.
const BATCH_WRITE_TRIES: u32 = 5;
/// The first wait before resending unprocessed items; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// The error code of a request DynamoDB will never take as it is.
const VALIDATION_EXCEPTION: &str = "ValidationException";

/// An item's key: (`webhook_id`, `sk`).
type Key = (String, String);

/// Why DynamoDB can never take this item, if it cannot. The size is an upper bound
/// of DynamoDB's count ([`item_size`]); what these checks miss, DynamoDB refuses
/// with a `ValidationException`, which is a refusal too.
pub(super) fn over_limits(item: &Item) -> Option<String> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Some(format!(
            "about {size} bytes, over DynamoDB's {MAX_ITEM_BYTES}-byte item limit"
        ));
    }
    let depth = nesting_depth(item);
    if depth > MAX_NESTING_DEPTH {
        return Some(format!(
            "nested {depth} levels deep, over DynamoDB's limit of {MAX_NESTING_DEPTH}"
        ));
    }
    None
}

/// A failed `BatchWriteItem` call as the core's kind: a validation error is a
/// refusal (the same request can never succeed); anything else (throttling, a 5xx, a
/// timeout) may pass.
pub(super) fn chunk_failure<E>(error: E) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let described = AwsError::sdk("BatchWriteItem", &error);
    if error.code() == Some(VALIDATION_EXCEPTION) {
        StoreError::Refused(described.to_string())
    } else {
        described.into()
    }
}

fn refused(attempt: &LoggedAttempt, why: &str) -> StoreError {
    StoreError::Refused(format!(
        "BatchWriteItem: the log item of delivery {} attempt {} is {why}",
        attempt.record.delivery_id, attempt.record.attempt
    ))
}

fn key_of(item: &Item) -> Option<Key> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some((text("webhook_id")?, text("sk")?))
}

impl DynamoLogStore {
    /// The item of an attempt, or why DynamoDB could never take it.
    fn checked_item(&self, attempt: &LoggedAttempt) -> Result<Item, StoreError> {
        let item = self
            .to_item(attempt)
            .map_err(|error| refused(attempt, &format!("not mappable: {error}")))?;
        match over_limits(&item) {
            Some(why) => Err(refused(attempt, &why)),
            None => Ok(item),
        }
    }

    /// One `BatchWriteItem` chunk, resending what DynamoDB leaves unprocessed
    /// (throttling) with exponential backoff, a bounded number of times. One result
    /// per item: a failed call fails the items it carried, and after the last try
    /// only the items still unprocessed fail.
    async fn write_chunk(&self, items: Vec<Item>) -> Vec<Result<(), StoreError>> {
        let keys: Vec<Option<Key>> = items.iter().map(key_of).collect();
        let mut pending_keys: HashSet<Key> = keys.iter().flatten().cloned().collect();
        let mut pending = match put_requests(items) {
            Ok(pending) => pending,
            Err(error) => return keys.iter().map(|_| Err(error.replicate())).collect(),
        };
        let mut backoff = FIRST_BACKOFF;
        let mut try_number = 1;
        // How many items are still to write; their keys are `pending_keys`.
        let mut left = pending.len();
        let failure = loop {
            let sent = self
                .reader
                .client
                .batch_write_item()
                .request_items(&self.reader.table, pending)
                .send()
                .await;
            pending = match sent {
                Err(error) => break chunk_failure(error),
                Ok(output) => output
                    .unprocessed_items
                    .and_then(|mut unprocessed| unprocessed.remove(&self.reader.table))
                    .unwrap_or_default(),
            };
            pending_keys = pending
                .iter()
                .filter_map(|write| write.put_request().and_then(|put| key_of(put.item())))
                .collect();
            left = pending.len();
            if pending.is_empty() {
                return keys.iter().map(|_| Ok(())).collect();
            }
            if try_number == BATCH_WRITE_TRIES {
                break AwsError::new(
                    "BatchWriteItem",
                    format!("still unprocessed after {BATCH_WRITE_TRIES} tries (throttled)"),
                )
                .into();
            }
            tracing::debug!(
                unprocessed = pending.len(),
                "retrying unprocessed log items"
            );
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            try_number += 1;
        };
        // A pending item whose key could not be read: fail them all rather than guess.
        let known = pending_keys.len() == left;
        keys.iter()
            .map(|key| match key {
                Some(key) if known && !pending_keys.contains(key) => Ok(()),
                _ => Err(failure.replicate()),
            })
            .collect()
    }
}

fn put_requests(items: Vec<Item>) -> Result<Vec<WriteRequest>, StoreError> {
    items
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
                .map_err(mapping_error("BatchWriteItem"))
        })
        .collect()
}

#[async_trait]
impl LogAppender for DynamoLogStore {
    /// All the attempts, or the first failure (see [`LogAppender::append_each`]).
    async fn append(&self, attempts: &[LoggedAttempt]) -> Result<(), StoreError> {
        self.append_each(attempts).await.into_iter().collect()
    }

    /// Writes in `BatchWriteItem` chunks of at most 25. The same attempt twice (a
    /// redelivered log message) is one item: duplicates share one write, as DynamoDB
    /// refuses a batch that names a key twice. An item over DynamoDB's limits is
    /// refused before anything is sent, alone.
    async fn append_each(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        let mut results: Vec<Option<Result<(), StoreError>>> =
            attempts.iter().map(|_| None).collect();
        let mut items: Vec<Item> = Vec::with_capacity(attempts.len());
        // The positions of the attempts each item carries.
        let mut owners: Vec<Vec<usize>> = Vec::with_capacity(attempts.len());
        let mut slots: HashMap<Key, usize> = HashMap::new();
        for (at, attempt) in attempts.iter().enumerate() {
            let item = match self.checked_item(attempt) {
                Ok(item) => item,
                Err(refusal) => {
                    results[at] = Some(Err(refusal));
                    continue;
                }
            };
            let key = (
                attempt.record.webhook_id.to_string(),
                attempt.record.sort_key(),
            );
            match slots.get(&key) {
                Some(&slot) => {
                    items[slot] = item;
                    owners[slot].push(at);
                }
                None => {
                    slots.insert(key, items.len());
                    items.push(item);
                    owners.push(vec![at]);
                }
            }
        }
        let runs = batches(&vec![1; items.len()], MAX_BATCH_WRITE_ITEMS, usize::MAX);
        let mut items = items.into_iter();
        for run in runs {
            let chunk: Vec<Item> = items.by_ref().take(run.len()).collect();
            let written = self.write_chunk(chunk).await;
            for (slot, result) in run.zip(written) {
                for &at in &owners[slot] {
                    results[at] = Some(result.as_ref().map(|_| ()).map_err(StoreError::replicate));
                }
            }
        }
        results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    Err(AwsError::new("BatchWriteItem", "no result for this item").into())
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
