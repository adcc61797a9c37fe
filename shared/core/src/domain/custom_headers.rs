//! A webhook's custom headers (e.g. `Authorization: Splunk <token>`): the rules a set
//! must keep, and the set itself. Values are write-only: they never appear in a
//! `Debug` output or an error, only the names do.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// At most this many custom headers per webhook.
pub const MAX_HEADERS: usize = 10;
/// A header name: 1 to this many characters.
pub const MAX_HEADER_NAME_CHARS: usize = 64;
/// A header value: at most this many bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 1024;
/// Names the service sets itself (compared without case).
pub const RESERVED_NAMES: &[&str] = &[
    "Host",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "User-Agent",
    "X-Authorization-HMAC-256",
];
/// Prefixes of the delivery and signature headers (compared without case).
pub const RESERVED_PREFIXES: &[&str] = &["X-Webhook-", "X-Delivery-", "webhook-"];
/// The characters of an HTTP token (RFC 9110, 5.6.2) besides letters and digits.
const TOKEN_SYMBOLS: &str = "!#$%&'*+-.^_`|~";

/// Why a set of custom headers was refused. Messages name headers, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderRefusal {
    #[error("at most {MAX_HEADERS} headers, not {0}")]
    TooMany(usize),
    #[error("a header name must not be empty")]
    EmptyName,
    /// The name's valid beginning (never what follows: it may be a value typed into
    /// the name) and the position of the first character that is not allowed.
    #[error(
        "the header name starting {prefix:?} has a character that is not allowed at \
         position {position}: a name is letters, digits and !#$%&'*+-.^_`|~"
    )]
    NotAToken { prefix: String, position: usize },
    #[error("the header name {0:?}… is longer than {MAX_HEADER_NAME_CHARS} characters")]
    NameTooLong(String),
    #[error("{0} is reserved: the service sets it")]
    Reserved(String),
    #[error("{0} and {1} are the same header (names differ only in case)")]
    CaseDuplicate(String, String),
    #[error("the value of {0} must be visible ASCII characters and spaces")]
    BadValue(String),
    #[error("the value of {0} is longer than {MAX_HEADER_VALUE_BYTES} bytes")]
    ValueTooLong(String),
}

/// Whether the service sets a header of this name itself (a custom header may not).
pub fn is_reserved(name: &str) -> bool {
    RESERVED_NAMES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name))
        || RESERVED_PREFIXES.iter().any(|prefix| {
            name.len() >= prefix.len()
                && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        })
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || TOKEN_SYMBOLS.contains(c)
}

fn check_name(name: &str) -> Result<(), HeaderRefusal> {
    if name.is_empty() {
        return Err(HeaderRefusal::EmptyName);
    }
    if let Some(position) = name.chars().position(|c| !is_token_char(c)) {
        let prefix = name
            .chars()
            .take(position.min(MAX_HEADER_NAME_CHARS))
            .collect();
        return Err(HeaderRefusal::NotAToken { prefix, position });
    }
    if name.chars().count() > MAX_HEADER_NAME_CHARS {
        return Err(HeaderRefusal::NameTooLong(
            name.chars().take(MAX_HEADER_NAME_CHARS).collect(),
        ));
    }
    if is_reserved(name) {
        return Err(HeaderRefusal::Reserved(name.to_owned()));
    }
    Ok(())
}

fn check_value(name: &str, value: &str) -> Result<(), HeaderRefusal> {
    if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(HeaderRefusal::BadValue(name.to_owned()));
    }
    if value.len() > MAX_HEADER_VALUE_BYTES {
        return Err(HeaderRefusal::ValueTooLong(name.to_owned()));
    }
    Ok(())
}

/// A webhook's custom headers, names to values, ordered by name. Empty: none.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomHeaders(BTreeMap<String, String>);

impl fmt::Debug for CustomHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|name| (name, "<redacted>")))
            .finish()
    }
}

impl CustomHeaders {
    /// The set an admin gave, if it keeps every rule; otherwise every rule it breaks.
    pub fn parse(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Vec<HeaderRefusal>> {
        let pairs: Vec<(String, String)> = pairs.into_iter().collect();
        let mut refusals = Vec::new();
        if pairs.len() > MAX_HEADERS {
            refusals.push(HeaderRefusal::TooMany(pairs.len()));
        }
        let mut headers = BTreeMap::new();
        for (name, value) in pairs {
            let checked = check_name(&name).and_then(|()| check_value(&name, &value));
            if let Err(refusal) = checked {
                refusals.push(refusal);
                continue;
            }
            if let Some(same) = headers
                .keys()
                .find(|known: &&String| known.eq_ignore_ascii_case(&name))
            {
                refusals.push(HeaderRefusal::CaseDuplicate(same.clone(), name));
                continue;
            }
            headers.insert(name, value);
        }
        if refusals.is_empty() {
            Ok(Self(headers))
        } else {
            Err(refusals)
        }
    }

    /// A set read back from a store, which only ever holds sets that were parsed.
    pub fn from_stored(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// The names, sorted: what the webhook records and the API shows.
    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The headers of these names, when every one of them is here; `None` when one is
    /// missing (its value is not stored yet).
    pub fn covering(&self, names: &[String]) -> Option<CustomHeaders> {
        names
            .iter()
            .map(|name| Some((name.clone(), self.0.get(name)?.clone())))
            .collect::<Option<BTreeMap<_, _>>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests;
