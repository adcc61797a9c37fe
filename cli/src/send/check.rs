//! The event checked as the service will check it, before it leaves: a bad flag is a
//! usage error naming the flag (exit 2), whether the event goes to the API or a queue.

use serde_json::Value;
use webhooks_core::domain::event::{Event, EventRejection};
use webhooks_core::domain::ids::EventId;
use webhooks_core::domain::time::{Clock, SystemClock};

use crate::error::CliError;

/// The event as the service will read it, with a new `evt_` id and the current time
/// when not given; a refusal names the flag to fix.
pub(super) fn validated(body: &Value) -> Result<Event, CliError> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| CliError::runtime(format!("could not encode the event: {e}")))?;
    Event::parse(&bytes, EventId::generate, SystemClock.now()).map_err(|rejection| {
        let flag = match &rejection {
            EventRejection::TooLarge { .. } => "--data",
            other => match other.field() {
                Some("type") => "--type",
                Some("client_id") => "--client",
                Some("id") => "--id",
                _ => "--data",
            },
        };
        let message = match rejection {
            EventRejection::InvalidField { message, .. } => message,
            other => other.to_string(),
        };
        CliError::invalid_argument(flag, message)
    })
}
