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

/// [`load`] in `region` when one is given (a command's `--region`), else the
/// standard chain's.
pub async fn load_in(region: Option<&str>) -> SdkConfig {
    match region {
        Some(region) => {
            loader()
                .region(aws_config::Region::new(region.to_owned()))
                .load()
                .await
        }
        None => load().await,
    }
}

/// One client per service, cheap to clone, built from one [`SdkConfig`].
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub kms: aws_sdk_kms::Client,
}

impl AwsClients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
        }
    }

    /// Loads the configuration ([`load`]) and builds every client from it.
    pub async fn from_env() -> Self {
        Self::new(&load().await)
    }
}

/// [`load`] for a producer that only knows the events queue's URL: the region is the
/// queue's (`https://sqs.<region>.amazonaws.com/...`), so `AWS_REGION` need not be set.
/// Any other URL (an emulator's) keeps the standard chain's region.
pub async fn load_for_queue(queue_url: &str) -> SdkConfig {
    match queue_region(queue_url) {
        Some(region) => {
            loader()
                .region(aws_config::Region::new(region))
                .load()
                .await
        }
        None => load().await,
    }
}

/// Whether `config` can sign a request: a region and credentials. The error says
/// which is missing in a sentence a person at a terminal can act on.
pub async fn check_usable(config: &SdkConfig) -> Result<(), String> {
    use aws_sdk_sqs::config::ProvideCredentials;

    if config.region().is_none() {
        return Err("no AWS region: set AWS_REGION (or a profile's region)".to_owned());
    }
    let Some(credentials) = config.credentials_provider() else {
        return Err("no AWS credentials provider is configured".to_owned());
    };
    match credentials.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(error) => Err(format!(
            "no AWS credentials ({error}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY"
        )),
    }
}

/// The region in an AWS SQS queue URL's host: `sqs.<region>.amazonaws.com` (also
/// `.com.cn`), or the legacy `<region>.queue.amazonaws.com`.
pub fn queue_region(queue_url: &str) -> Option<String> {
    let rest = queue_url.strip_prefix("https://")?;
    let host = rest.split(['/', ':']).next()?;
    let region = match host.strip_prefix("sqs.") {
        Some(tail) => tail
            .strip_suffix(".amazonaws.com")
            .or_else(|| tail.strip_suffix(".amazonaws.com.cn"))?,
        None => host.strip_suffix(".queue.amazonaws.com")?,
    };
    let valid = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::queue_region;

    #[test]
    fn the_region_comes_from_an_aws_queue_url() {
        // Given queue URLs as AWS hands them out, then their region is read
        assert_eq!(
            queue_region("https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks-events")
                .as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            queue_region("https://sqs.cn-north-1.amazonaws.com.cn/1/q").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(
            queue_region("https://us-east-2.queue.amazonaws.com/1/q").as_deref(),
            Some("us-east-2")
        );
    }

    #[test]
    fn other_urls_have_no_region() {
        // Given an emulator's URL, plain HTTP, or a look-alike host, then none is read
        assert_eq!(queue_region("http://127.0.0.1:5000/123456789012/q"), None);
        assert_eq!(queue_region("http://sqs.eu-west-1.amazonaws.com/1/q"), None);
        assert_eq!(queue_region("https://sqs.amazonaws.com/1/q"), None);
        assert_eq!(queue_region("https://sqs.EU west.amazonaws.com/1/q"), None);
        assert_eq!(queue_region("https://example.com/1/q"), None);
    }
}
