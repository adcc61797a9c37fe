//! Sends items that arrive at about the same time together: the delivery function's
//! concurrent attempts each record a log entry and may queue a task, and one SQS
//! `SendMessageBatch` of 10 costs what one `SendMessage` does. Each caller still hears
//! back only once its own item was sent, and only of its own failure.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::ports::StoreError;

/// What a group is sent with: one result per item, in order.
#[async_trait]
pub trait SendMany<T>: Send + Sync {
    async fn send_many(&self, items: &[T]) -> Vec<Result<(), StoreError>>;
}

type Waiting<T> = Vec<(T, oneshot::Sender<Result<(), StoreError>>)>;

/// Collects items for up to `linger`, or until `max_group` are waiting, and sends
/// them through one `send_many`.
pub struct Grouper<T> {
    inner: Arc<dyn SendMany<T>>,
    max_group: usize,
    linger: Duration,
    waiting: Arc<Mutex<Waiting<T>>>,
}

impl<T: Send + 'static> Grouper<T> {
    pub fn new(inner: Arc<dyn SendMany<T>>, max_group: usize, linger: Duration) -> Self {
        Self {
            inner,
            max_group: max_group.max(1),
            linger,
            waiting: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Sends `item` with whatever else is waiting; returns once it was sent.
    pub async fn send(&self, item: T) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let (first, full) = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.push((item, reply));
            (waiting.len() == 1, waiting.len() >= self.max_group)
        };
        if full {
            // A full group leaves at once, sent by the caller that filled it.
            send_waiting(self.inner.as_ref(), &self.waiting, self.max_group).await;
        } else if first {
            // The first of a group makes sure it leaves after `linger`, even if no
            // one else comes (a task of its own: it must not depend on this caller).
            let inner = Arc::clone(&self.inner);
            let waiting = Arc::clone(&self.waiting);
            let (max_group, linger) = (self.max_group, self.linger);
            tokio::spawn(async move {
                tokio::time::sleep(linger).await;
                send_waiting(inner.as_ref(), &waiting, max_group).await;
            });
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::backend("the item was never sent")))
    }
}

/// Sends what is waiting, at most `max_group` at a time, and answers each caller.
async fn send_waiting<T>(inner: &dyn SendMany<T>, waiting: &Mutex<Waiting<T>>, max_group: usize) {
    loop {
        let group: Waiting<T> = {
            let mut waiting = waiting.lock().unwrap_or_else(PoisonError::into_inner);
            let take = waiting.len().min(max_group);
            waiting.drain(..take).collect()
        };
        if group.is_empty() {
            return;
        }
        let (items, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let mut results = inner.send_many(&items).await.into_iter();
        for reply in replies {
            let result = results
                .next()
                .unwrap_or_else(|| Err(StoreError::backend("the sender answered for fewer items")));
            let _ = reply.send(result);
        }
    }
}
