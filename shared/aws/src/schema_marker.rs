//! Whether the webhooks table's subscription items can be trusted: the marker item
//! `meta#subscriptions` the backfill (`webhooks migrate subscriptions`) writes last.
//! Read once per process while present (a marker is never removed), and at most every
//! [`RECHECK_ABSENT`] while absent; the first time it is found absent a warning says
//! fan-out and listing read the old way until the backfill has run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use tracing::warn;
use webhooks_core::ports::StoreError;

use crate::error::sdk_error;
use crate::subscription_item::{marker_is_current, MARKER_ID};

/// How long an absent marker is believed absent before it is read again.
pub const RECHECK_ABSENT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
enum Known {
    Unread,
    Present,
    AbsentAt(Instant),
}

#[derive(Debug)]
pub(crate) struct SchemaMarker {
    known: Mutex<Known>,
    warned: AtomicBool,
}

impl SchemaMarker {
    pub(crate) fn new() -> Self {
        Self {
            known: Mutex::new(Known::Unread),
            warned: AtomicBool::new(false),
        }
    }

    fn known(&self) -> Known {
        *self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, known: Known) {
        *self.known.lock().unwrap_or_else(PoisonError::into_inner) = known;
    }

    /// True once the table holds every webhook's subscription items.
    pub(crate) async fn present(&self, client: &Client, table: &str) -> Result<bool, StoreError> {
        match self.known() {
            Known::Present => return Ok(true),
            Known::AbsentAt(at) if at.elapsed() < RECHECK_ABSENT => return Ok(false),
            _ => {}
        }
        let output = client
            .get_item()
            .table_name(table)
            .key("id", AttributeValue::S(MARKER_ID.to_owned()))
            .send()
            .await
            .map_err(sdk_error("GetItem"))?;
        let present = output.item.as_ref().is_some_and(marker_is_current);
        if present {
            self.set(Known::Present);
        } else {
            self.set(Known::AbsentAt(Instant::now()));
            if !self.warned.swap(true, Ordering::Relaxed) {
                warn!(
                    table,
                    marker = MARKER_ID,
                    "the webhooks table has no subscription marker: fan-out reads every \
                     webhook of the event type (by_event) and listing scans, until \
                     `webhooks migrate subscriptions --table {table}` has run"
                );
            }
        }
        Ok(present)
    }
}
