//! The delivery log in SQLite, keyed like the DynamoDB table: (webhook id, sort key
//! `{at}#{delivery_id}#{attempt:04}`), newest first. Locally it is also the log sink:
//! the worker records attempts straight into it, and each newly logged attempt is
//! added to the webhook's stats in the same transaction.

use async_trait::async_trait;
use rusqlite::params;
use webhooks_core::domain::delivery_log::{LoggedAttempt, Outcome};
use webhooks_core::domain::health::tally;
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{LogAppender, LogReader, LogSink, Page, StoreError};

use crate::db::{millis, Db, OrBackend};

#[derive(Clone, Debug)]
pub struct SqliteLogStore {
    db: Db,
}

impl SqliteLogStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Deletes the attempts logged before `cutoff` (retention); returns how many.
    pub async fn prune_older_than(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        let cutoff = millis(cutoff);
        self.db
            .call(move |conn| {
                conn.execute("DELETE FROM delivery_logs WHERE at_ms < ?1", [cutoff])
                    .or_backend()
            })
            .await
    }
}

/// The stored columns of one attempt.
struct Row {
    webhook_id: String,
    sk: String,
    delivery_id: String,
    attempt: u32,
    outcome: &'static str,
    at_ms: i64,
    body: String,
}

impl Row {
    fn of(attempt: &LoggedAttempt) -> Result<Row, StoreError> {
        let record = &attempt.record;
        Ok(Row {
            webhook_id: record.webhook_id.as_str().to_owned(),
            sk: record.sort_key(),
            delivery_id: record.delivery_id.as_str().to_owned(),
            attempt: record.attempt,
            outcome: record.outcome.as_str(),
            at_ms: millis(record.at),
            body: serde_json::to_string(attempt).or_backend()?,
        })
    }
}

fn decode(body: &str) -> Result<LoggedAttempt, StoreError> {
    serde_json::from_str(body).or_backend()
}

#[async_trait]
impl LogAppender for SqliteLogStore {
    async fn append(&self, attempts: &[LoggedAttempt]) -> Result<(), StoreError> {
        let rows = attempts
            .iter()
            .map(|attempt| Ok((Row::of(attempt)?, attempt.clone())))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        // One write, so the rows commit together (and with the writes beside them).
        self.db
            .write(move |conn| {
                // The same attempt appended twice (a redelivered log message) is kept
                // once, and counted in the stats once: the key is the record's identity.
                let mut statement = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO delivery_logs
                         (webhook_id, sk, delivery_id, attempt, outcome, at_ms, body)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .or_backend()?;
                let mut inserted = Vec::with_capacity(rows.len());
                for (row, attempt) in &rows {
                    let changed = statement
                        .execute(params![
                            row.webhook_id,
                            row.sk,
                            row.delivery_id,
                            row.attempt,
                            row.outcome,
                            row.at_ms,
                            row.body
                        ])
                        .or_backend()?;
                    if changed > 0 {
                        inserted.push(attempt);
                    }
                }
                crate::stats::add(conn, &tally(inserted))
            })
            .await
    }
}

#[async_trait]
impl LogReader for SqliteLogStore {
    async fn list(
        &self,
        webhook: &WebhookId,
        outcome: Option<Outcome>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedAttempt>, StoreError> {
        if limit == 0 {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let webhook = webhook.as_str().to_owned();
        let outcome = outcome.map(Outcome::as_str);
        let before = cursor.map(str::to_owned);
        // One row more than asked tells whether there is a next page.
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let rows: Vec<(String, String)> = self
            .db
            .call(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT sk, body FROM delivery_logs
                         WHERE webhook_id = ?1
                           AND (?2 IS NULL OR outcome = ?2)
                           AND (?3 IS NULL OR sk < ?3)
                         ORDER BY sk DESC
                         LIMIT ?4",
                    )
                    .or_backend()?;
                let rows = statement
                    .query_map(params![webhook, outcome, before, fetch], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .or_backend()?;
                rows.collect::<Result<Vec<_>, _>>().or_backend()
            })
            .await?;
        let page = Page::from_one_more(rows, limit, |(sk, _)| sk.clone());
        let items = page
            .items
            .iter()
            .map(|(_, body)| decode(body))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    async fn attempts(
        &self,
        webhook: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        let webhook = webhook.as_str().to_owned();
        let delivery = delivery.as_str().to_owned();
        let bodies: Vec<String> = self
            .db
            .call(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT body FROM delivery_logs
                         WHERE webhook_id = ?1 AND delivery_id = ?2
                         ORDER BY attempt, sk",
                    )
                    .or_backend()?;
                let rows = statement
                    .query_map(params![webhook, delivery], |row| row.get(0))
                    .or_backend()?;
                rows.collect::<Result<Vec<_>, _>>().or_backend()
            })
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn since(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        let webhook = webhook.as_str().to_owned();
        // Sort keys begin with the attempt's time: from `since` on, oldest first.
        let from = since.to_string();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let bodies: Vec<String> = self
            .db
            .call(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT body FROM delivery_logs
                         WHERE webhook_id = ?1 AND sk >= ?2
                         ORDER BY sk
                         LIMIT ?3",
                    )
                    .or_backend()?;
                let rows = statement
                    .query_map(params![webhook, from, limit], |row| row.get(0))
                    .or_backend()?;
                rows.collect::<Result<Vec<_>, _>>().or_backend()
            })
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }
}

#[async_trait]
impl LogSink for SqliteLogStore {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.append(std::slice::from_ref(attempt)).await
    }

    /// One write for the group; if it fails, each record alone, so only the records
    /// that fail hear of it.
    async fn record_many(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        if self.append(attempts).await.is_ok() {
            return attempts.iter().map(|_| Ok(())).collect();
        }
        let mut each = Vec::with_capacity(attempts.len());
        for attempt in attempts {
            each.push(self.record(attempt).await);
        }
        each
    }
}
