//! What every listing checks before it reads a page, and reading a query's pages.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use webhooks_core::ports::{Page, StoreError};

use crate::error::sdk_error;

/// Refuses a cursor that is empty or longer than `max_cursor_bytes` (no cursor this
/// store hands out is), and answers the empty page a `limit` of 0 asks for without
/// reading: `Ok(Some(page))` means there is nothing to read.
pub(crate) fn before_listing<T>(
    cursor: Option<&str>,
    max_cursor_bytes: usize,
    limit: usize,
) -> Result<Option<Page<T>>, StoreError> {
    if cursor.is_some_and(|c| c.is_empty() || c.len() > max_cursor_bytes) {
        return Err(StoreError::InvalidCursor);
    }
    Ok((limit == 0).then(|| Page {
        items: Vec::new(),
        next_cursor: None,
    }))
}

/// Sends `query` page after page, each from where the last one ended, and decodes
/// every item, until `enough` items were read or the last page was (`usize::MAX`
/// reads them all).
pub(crate) async fn query_pages<T>(
    query: QueryFluentBuilder,
    enough: usize,
    mut decode: impl FnMut(HashMap<String, AttributeValue>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let output = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error("Query"))?;
        for item in output.items.unwrap_or_default() {
            found.push(decode(item)?);
            if found.len() >= enough {
                return Ok(found);
            }
        }
        start = output.last_evaluated_key;
        if start.is_none() {
            return Ok(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_oversized_cursor_is_refused() {
        for cursor in ["", "xxxxx"] {
            let checked = before_listing::<()>(Some(cursor), 4, 10);
            assert!(
                matches!(checked, Err(StoreError::InvalidCursor)),
                "{cursor:?}"
            );
        }
    }

    #[test]
    fn a_zero_limit_is_an_empty_last_page_and_any_other_reads() {
        let empty = before_listing::<()>(Some("abcd"), 4, 0).unwrap().unwrap();
        assert!(empty.items.is_empty() && empty.next_cursor.is_none());
        assert!(before_listing::<()>(None, 4, 1).unwrap().is_none());
    }
}
