//! Query strings: known parameters only, each parsed with a field-level error, and
//! opaque pagination cursors.

use std::collections::HashMap;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::problem::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

/// The parameters of one request, refusing names not in `known` and empty values
/// (`?enabled=` is a mistake, not "no filter").
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
            if value.is_empty() {
                return Err(ApiError::bad_query(
                    &key,
                    "must not be empty; leave the parameter out instead",
                ));
            }
            params.insert(key.into_owned(), value.into_owned());
        }
        Ok(Self(params))
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
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

/// Any unpadded base64url value is a position (the store reads after or before it), not
/// only the `next_cursor` of a page: what the OpenAPI document says a cursor is.
fn decode_cursor(cursor: &str) -> ApiResult<String> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT
        .decode(cursor)
        .ok()
        .filter(|bytes| !bytes.is_empty())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
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
    fn an_empty_value_is_refused_rather_than_read_as_absent() {
        // GIVEN `?enabled=` (a filter with no value) WHEN parsed THEN it is a 400 naming it
        for raw in ["enabled=", "limit=", "cursor=", "limit=5&enabled="] {
            match QueryParams::parse(Some(raw), &["limit", "cursor", "enabled"]).map(|_| ()) {
                Err(ApiError::BadRequest { errors, .. }) => {
                    assert!(raw.contains(&format!("{}=", errors[0].field)), "{raw}")
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
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
