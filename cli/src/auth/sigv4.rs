//! `--auth sigv4`: each API request signed with AWS Signature Version 4 for
//! `execute-api` by the `aws-sigv4` crate, with credentials from the standard AWS chain
//! (environment, profile, SSO, container, instance). The AWS crates come with the
//! `sigv4` feature (a default one); a build without it refuses SigV4.

#[cfg(feature = "sigv4")]
pub use with_sdk::Signer;
#[cfg(not(feature = "sigv4"))]
pub use without_sdk::Signer;

#[cfg(feature = "sigv4")]
mod with_sdk {
    use std::time::{Duration, SystemTime};

    use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    use reqwest::header::{HeaderName, HeaderValue};
    use tokio::sync::Mutex;

    use crate::auth::region::signing_region;
    use crate::error::CliError;

    /// The service API Gateway's SigV4 signatures are for.
    const SERVICE: &str = "execute-api";

    /// Temporary credentials are fetched again this long before they expire.
    const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

    /// Signs requests for one region with the AWS chain's credentials, fetched once and
    /// again shortly before they expire (`logs --follow` runs for hours).
    pub struct Signer {
        region: String,
        provider: SharedCredentialsProvider,
        credentials: Mutex<Credentials>,
    }

    /// Only the region: credentials never show in a `Debug` output.
    impl std::fmt::Debug for Signer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Signer")
                .field("region", &self.region)
                .finish_non_exhaustive()
        }
    }

    impl Signer {
        /// The signer for an API on `host`: the region from `--region`, the host or the
        /// chain, and credentials found now, or an error saying how to provide them.
        pub async fn load(host: &str, region_flag: Option<&str>) -> Result<Self, CliError> {
            let config = webhooks_aws::sdk::load().await;
            let region = signing_region(region_flag, host, config.region().map(|r| r.as_ref()))?;
            let provider = config.credentials_provider().ok_or_else(|| {
                CliError::runtime("--auth sigv4: no AWS credentials provider is configured")
            })?;
            let credentials = fetch(&provider).await?;
            Ok(Self {
                region,
                provider,
                credentials: Mutex::new(credentials),
            })
        }

        /// Adds `Authorization`, `X-Amz-Date` and, with temporary credentials,
        /// `X-Amz-Security-Token` to `request`, signing its method, URL, headers and
        /// body.
        pub async fn sign(&self, request: &mut reqwest::Request) -> Result<(), CliError> {
            let identity = self.current().await?.into();
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region(&self.region)
                .name(SERVICE)
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .map_err(|e| signing_failed(&e))?
                .into();
            let headers: Vec<(&str, &str)> = request
                .headers()
                .iter()
                .filter_map(|(name, value)| value.to_str().ok().map(|v| (name.as_str(), v)))
                .collect();
            let body = request.body().and_then(reqwest::Body::as_bytes);
            let signable = SignableRequest::new(
                request.method().as_str(),
                request.url().as_str(),
                headers.into_iter(),
                SignableBody::Bytes(body.unwrap_or_default()),
            )
            .map_err(|e| signing_failed(&e))?;
            let (instructions, _signature) = sign(signable, &params)
                .map_err(|e| signing_failed(&e))?
                .into_parts();
            let (headers, _query) = instructions.into_parts();
            for header in headers {
                let name = HeaderName::from_static(header.name());
                let mut value =
                    HeaderValue::from_str(header.value()).map_err(|e| signing_failed(&e))?;
                value.set_sensitive(header.sensitive());
                request.headers_mut().insert(name, value);
            }
            Ok(())
        }

        /// The cached credentials, fetched again when they expire within
        /// [`REFRESH_BEFORE_EXPIRY`].
        async fn current(&self) -> Result<Credentials, CliError> {
            let mut cached = self.credentials.lock().await;
            let expiring = cached.expiry().is_some_and(|expiry| {
                expiry
                    .duration_since(SystemTime::now())
                    .map_or(true, |left| left < REFRESH_BEFORE_EXPIRY)
            });
            if expiring {
                *cached = fetch(&self.provider).await?;
            }
            Ok(cached.clone())
        }
    }

    async fn fetch(provider: &SharedCredentialsProvider) -> Result<Credentials, CliError> {
        provider.provide_credentials().await.map_err(|error| {
            CliError::runtime(format!(
                "--auth sigv4: no AWS credentials found ({error}): set AWS_PROFILE, or \
                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ))
        })
    }

    fn signing_failed(error: &dyn std::fmt::Display) -> CliError {
        CliError::runtime(format!("cannot sign the request with SigV4: {error}"))
    }
}

#[cfg(not(feature = "sigv4"))]
mod without_sdk {
    use crate::error::CliError;

    /// No signer can exist in a build without the `sigv4` feature.
    #[derive(Debug)]
    pub enum Signer {}

    impl Signer {
        pub async fn load(_host: &str, _region_flag: Option<&str>) -> Result<Self, CliError> {
            Err(CliError::invalid_argument(
                "--auth",
                "this build of webhooks has no SigV4 support (built without the `sigv4` \
                 feature): give --auth bearer or --auth none",
            ))
        }

        pub async fn sign(&self, _request: &mut reqwest::Request) -> Result<(), CliError> {
            match *self {}
        }
    }
}
