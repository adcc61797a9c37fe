//! SDK errors as the core's `StoreError::Backend`, with the SDK's full error chain as
//! the message (`DisplayErrorContext`) and the operation that failed. Never built from
//! a request, so never carries a secret.

use std::error::Error;
use std::fmt;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use webhooks_core::ports::StoreError;

/// A failed AWS call, or data the adapters could not map.
#[derive(Debug)]
pub struct AwsError {
    operation: &'static str,
    message: String,
}

impl AwsError {
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            message: message.into(),
        }
    }

    /// An SDK error, described with its whole source chain.
    pub fn sdk(operation: &'static str, error: &(dyn Error + 'static)) -> Self {
        Self::new(operation, DisplayErrorContext(error).to_string())
    }

    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.message)
    }
}

impl Error for AwsError {}

impl From<AwsError> for StoreError {
    fn from(error: AwsError) -> Self {
        StoreError::backend(error)
    }
}

/// `StoreError::Backend` for an SDK error of `operation`.
pub(crate) fn sdk_error<E: Error + 'static>(
    operation: &'static str,
) -> impl FnOnce(E) -> StoreError {
    move |error| AwsError::sdk(operation, &error).into()
}

/// `StoreError::Backend` for an item or body that could not be mapped.
pub(crate) fn mapping_error<E: fmt::Display>(
    operation: &'static str,
) -> impl FnOnce(E) -> StoreError {
    move |error| AwsError::new(operation, error.to_string()).into()
}
