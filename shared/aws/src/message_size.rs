//! The size check shared by the SQS senders: a body over SQS's message limit is
//! refused before it is sent.

use webhooks_core::ports::StoreError;

use crate::error::AwsError;
use crate::limits::MAX_MESSAGE_BYTES;

pub(crate) fn too_large(operation: &'static str, what: &str, bytes: usize) -> StoreError {
    AwsError::new(
        operation,
        format!("{what} is {bytes} bytes, over SQS's {MAX_MESSAGE_BYTES}-byte message limit"),
    )
    .into()
}
