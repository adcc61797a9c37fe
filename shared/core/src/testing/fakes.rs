//! Fakes of the two ports that reach outside the process: a sender that answers from
//! a script and remembers every request, and a clock a test moves by hand.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::lock;
use crate::domain::time::{Clock, Timestamp};
use crate::outbound::{HttpSender, OutboundRequest, OutboundResponse, SendError};

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
