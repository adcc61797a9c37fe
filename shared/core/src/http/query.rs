//! Query strings: known parameters only, each parsed with a field-level error, and
//! opaque pagination cursors.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::problem::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

/// The parameters of one request, refusing names not in `known`.
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    pub fn parse(raw: Option<&str>, known: &[&str]) -> ApiResult<Self> {
        let mut params = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if !known.contains(&key.as_ref()) {
                return Err(ApiError::bad_query(
                    &key,
                    format!("unknown parameter; known: {}", known.join(", ")),
                ));
            }
            params.insert(key.into_owned(), value.into_owned());
        }
        Ok(Self(params))
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn boolean(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.text(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::bad_query(name, "must be true or false")),
        }
    }

    pub fn limit(&self) -> ApiResult<usize> {
        match self.text("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(text) => match text.parse::<usize>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
                _ => Err(ApiError::bad_query(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}"),
                )),
            },
        }
    }

    /// The store's cursor inside the opaque one the API handed out.
    pub fn cursor(&self) -> ApiResult<Option<String>> {
        self.text("cursor").map(decode_cursor).transpose()
    }
}

pub fn encode_cursor(store_cursor: &str) -> String {
    URL_SAFE_NO_PAD.encode(store_cursor.as_bytes())
}

fn decode_cursor(cursor: &str) -> ApiResult<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::bad_query("cursor", "is not a cursor this API returned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_opaquely() {
        let params = QueryParams::parse(
            Some(&format!("cursor={}", encode_cursor("wh_01"))),
            &["cursor"],
        )
        .unwrap();
        assert_eq!(params.cursor().unwrap().as_deref(), Some("wh_01"));
        assert_ne!(encode_cursor("wh_01"), "wh_01");
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let bad = |raw: &str| match QueryParams::parse(Some(raw), &["limit", "cursor", "enabled"])
            .and_then(|p| {
                p.limit()?;
                p.cursor()?;
                p.boolean("enabled")
            }) {
            Err(ApiError::BadRequest { errors, .. }) => errors[0].field.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(bad("limit=0"), "limit");
        assert_eq!(bad("limit=101"), "limit");
        assert_eq!(bad("cursor=%%%"), "cursor");
        assert_eq!(bad("enabled=yes"), "enabled");
        assert_eq!(bad("colour=red"), "colour");
    }

    #[test]
    fn absent_limit_defaults() {
        assert_eq!(
            QueryParams::parse(None, &["limit"])
                .unwrap()
                .limit()
                .unwrap(),
            DEFAULT_LIMIT
        );
    }
}
