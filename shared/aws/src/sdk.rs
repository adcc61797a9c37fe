//! Building the SDK clients: once per process, outside any handler.
//!
//! The SDK's default HTTPS client (rustls on aws-lc) is left out; this one is rustls on
//! ring, the TLS stack reqwest already brings, so the binaries carry one TLS stack.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The HTTPS client every AWS client uses (hyper 1, rustls with ring, the system's
/// root certificates).
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK's standard configuration chain (environment, profile, container and
/// instance credentials; `AWS_REGION`; `AWS_ENDPOINT_URL`) with our HTTPS client. Add
/// settings before `.load().await`, as the emulator fixture does with credentials.
pub fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// [`loader`] as it is: what a Lambda function's `main` calls.
pub async fn load() -> SdkConfig {
    loader().load().await
}

/// One client per service, cheap to clone, built from one [`SdkConfig`].
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl AwsClients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
        }
    }

    /// Loads the configuration ([`load`]) and builds every client from it.
    pub async fn from_env() -> Self {
        Self::new(&load().await)
    }
}
