//! The region a SigV4 signature is for: `--region`, else the one in the API Gateway
//! host, else the AWS chain's. Only a build with the `sigv4` feature signs.
#![cfg_attr(not(feature = "sigv4"), allow(dead_code))]

use crate::error::CliError;

/// The API Gateway service name, which hosts carry before their region.
const SERVICE_LABEL: &str = "execute-api";

/// The region in an API Gateway host: the label after `execute-api`, as in
/// `abc123.execute-api.eu-west-1.amazonaws.com` (also `.amazonaws.com.cn` and VPC
/// endpoint hosts). Any other host (a custom domain, loopback) names none.
pub fn region_from_host(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    if !(host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")) {
        return None;
    }
    let mut labels = host.split('.');
    labels.find(|label| *label == SERVICE_LABEL)?;
    labels
        .next()
        .filter(|region| is_region(region))
        .map(str::to_owned)
}

/// The region to sign for: `--region`, else the API host's, else the AWS chain's
/// (`AWS_REGION` or the profile's).
pub fn signing_region(
    flag: Option<&str>,
    host: &str,
    chain: Option<&str>,
) -> Result<String, CliError> {
    if let Some(region) = flag {
        let region = region.trim();
        return if is_region(region) {
            Ok(region.to_owned())
        } else {
            Err(CliError::invalid_argument(
                "--region",
                format!("{region:?} is not an AWS region name such as eu-west-1"),
            ))
        };
    }
    region_from_host(host)
        .or_else(|| chain.filter(|region| is_region(region)).map(str::to_owned))
        .ok_or_else(|| {
            CliError::invalid_argument(
                "--region",
                format!(
                    "the API host {host} names no AWS region to sign for: give --region or set \
                     AWS_REGION"
                ),
            )
        })
}

fn is_region(text: &str) -> bool {
    !text.is_empty()
        && text.contains('-')
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
