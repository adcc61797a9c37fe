//! How the client commands authenticate to the API: AWS SigV4, the bearer token, or
//! nothing; the rule that picks one when `--auth` is not given, and the region a
//! SigV4 signature is for.

mod region;
mod sigv4;

#[cfg(test)]
use region::{region_from_host, signing_region};
pub use sigv4::Signer;

use crate::error::CliError;

/// The environment variable `--auth` falls back to.
pub const AUTH_ENV: &str = "WEBHOOKS_API_AUTH";

/// What `--auth` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    SigV4,
    Bearer,
    None,
}

impl AuthMode {
    /// `sigv4`, `bearer` or `none` (any case); anything else names the flag.
    pub fn parse(text: &str) -> Result<Self, CliError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sigv4" => Ok(AuthMode::SigV4),
            "bearer" => Ok(AuthMode::Bearer),
            "none" => Ok(AuthMode::None),
            _ => Err(CliError::invalid_argument(
                "--auth",
                format!("{text:?} is not one of sigv4, bearer, none"),
            )),
        }
    }

    /// The mode asked for, else SigV4 for an API on `*.amazonaws.com` when no token is
    /// set, else the bearer token when one is set, else none.
    pub fn choose(requested: Option<AuthMode>, host: &str, token_set: bool) -> AuthMode {
        if let Some(mode) = requested {
            return mode;
        }
        if token_set {
            AuthMode::Bearer
        } else if is_aws_host(host) {
            AuthMode::SigV4
        } else {
            AuthMode::None
        }
    }
}

fn is_aws_host(host: &str) -> bool {
    host.to_ascii_lowercase()
        .trim_end_matches('.')
        .ends_with(".amazonaws.com")
}

/// How requests are authenticated, once resolved.
pub enum Auth {
    None,
    Bearer(String),
    SigV4(Signer),
}

/// The token never shows in a `Debug` output.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::SigV4(signer) => f.debug_tuple("SigV4").field(signer).finish(),
        }
    }
}

impl Auth {
    /// The authentication for an API on `host`: `requested` is `--auth` (or
    /// `WEBHOOKS_API_AUTH`), `token` is `WEBHOOKS_API_TOKEN`, `region` is `--region`.
    /// SigV4 loads the AWS credentials here, so missing ones fail before any request.
    pub async fn resolve(
        requested: Option<&str>,
        host: &str,
        token: Option<String>,
        region: Option<&str>,
    ) -> Result<Self, CliError> {
        let requested = requested
            .filter(|text| !text.trim().is_empty())
            .map(AuthMode::parse)
            .transpose()?;
        match AuthMode::choose(requested, host, token.is_some()) {
            AuthMode::None => Ok(Auth::None),
            AuthMode::Bearer => token.map(Auth::Bearer).ok_or_else(|| {
                CliError::invalid_argument(
                    "--auth",
                    "bearer needs the token in WEBHOOKS_API_TOKEN, which is not set",
                )
            }),
            AuthMode::SigV4 => Ok(Auth::SigV4(Signer::load(host, region).await?)),
        }
    }

    /// A hint for a 401 or 403 answer, saying what to check.
    pub fn hint(&self, status: u16, host: &str) -> Option<&'static str> {
        match (self, status) {
            (Auth::None, 401) => {
                Some(" (set WEBHOOKS_API_TOKEN to the token `webhooks serve` was started with)")
            }
            (Auth::None, 403) if is_aws_host(host) => {
                Some(" (the API may need SigV4: drop --auth none, or give --auth sigv4)")
            }
            (Auth::Bearer(_), 401 | 403) => Some(" (check WEBHOOKS_API_TOKEN)"),
            (Auth::SigV4(_), 401 | 403) => Some(
                " (check the AWS credentials, the region, and that they may call \
                 execute-api:Invoke on this API)",
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
