//! Fakes of the ports that reach outside the process: a sender that answers from a
//! script and remembers every request, a clock a test moves by hand, and a delivery
//! log that refuses or fails chosen attempts the way DynamoDB does.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::lock;
use super::memory::MemoryLogs;
use crate::domain::delivery_log::LoggedAttempt;
use crate::domain::ids::DeliveryId;
use crate::domain::time::{Clock, Timestamp};
use crate::outbound::{HttpSender, OutboundRequest, OutboundResponse, SendError};
use crate::ports::{LogAppender, StoreError};

/// A receiver's answer with this status, after `elapsed`.
pub fn answer(status: u16) -> Result<OutboundResponse, SendError> {
    Ok(OutboundResponse {
        status,
        location: None,
        retry_after: None,
        excerpt: String::new(),
        elapsed: Duration::from_millis(12),
        remote_addr: None,
        tls: false,
    })
}

/// Answers each request with the next scripted result, then with 200 once the script
/// is used up.
#[derive(Debug, Default)]
pub struct ScriptedSender {
    script: Mutex<VecDeque<Result<OutboundResponse, SendError>>>,
    requests: Mutex<Vec<OutboundRequest>>,
}

impl ScriptedSender {
    pub fn answering(
        script: impl IntoIterator<Item = Result<OutboundResponse, SendError>>,
    ) -> Self {
        Self {
            script: Mutex::new(script.into_iter().collect()),
            requests: Mutex::default(),
        }
    }

    /// Every request sent, in order.
    pub fn requests(&self) -> Vec<OutboundRequest> {
        lock(&self.requests).clone()
    }
}

#[async_trait]
impl HttpSender for ScriptedSender {
    async fn post(&self, request: OutboundRequest) -> Result<OutboundResponse, SendError> {
        lock(&self.requests).push(request);
        lock(&self.script)
            .pop_front()
            .unwrap_or_else(|| answer(200))
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    pub fn at(now: Timestamp) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = lock(&self.now);
        *now = now.plus(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *lock(&self.now)
    }
}

/// A delivery log that writes like `BatchWriteItem`: a call that carries an attempt
/// of a `refused` delivery is refused whole (nothing written, every attempt
/// `Refused`), and the attempts of a `failing` delivery fail for now (throttled)
/// while the rest of the call is written. Remembers how many attempts each call
/// carried.
#[derive(Debug, Default)]
pub struct PickyLogs {
    pub logs: MemoryLogs,
    refused: Vec<DeliveryId>,
    failing: Vec<DeliveryId>,
    calls: Mutex<Vec<usize>>,
}

impl PickyLogs {
    pub fn new(refused: Vec<DeliveryId>, failing: Vec<DeliveryId>) -> Self {
        Self {
            refused,
            failing,
            ..Self::default()
        }
    }

    /// The number of attempts of each call, in order.
    pub fn calls(&self) -> Vec<usize> {
        lock(&self.calls).clone()
    }
}

#[async_trait]
impl LogAppender for PickyLogs {
    async fn append(&self, attempts: &[LoggedAttempt]) -> Result<(), StoreError> {
        self.append_each(attempts).await.into_iter().collect()
    }

    async fn append_each(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        lock(&self.calls).push(attempts.len());
        let of =
            |ids: &[DeliveryId], attempt: &LoggedAttempt| ids.contains(&attempt.record.delivery_id);
        if let Some(bad) = attempts.iter().find(|a| of(&self.refused, a)) {
            let reason = format!("delivery {} is nested too deep", bad.record.delivery_id);
            return attempts
                .iter()
                .map(|_| Err(StoreError::Refused(reason.clone())))
                .collect();
        }
        let mut results = Vec::with_capacity(attempts.len());
        for attempt in attempts {
            results.push(if of(&self.failing, attempt) {
                Err(StoreError::backend("throttled"))
            } else {
                self.logs.append(std::slice::from_ref(attempt)).await
            });
        }
        results
    }
}
