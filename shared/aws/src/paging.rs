//! What every listing checks before it reads a page.

use webhooks_core::ports::{Page, StoreError};

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
