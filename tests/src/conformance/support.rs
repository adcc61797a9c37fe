//! Builders and assertions the suites share.

use std::future::Future;
use std::time::Duration;

use webhooks_core::domain::ids::{EventId, WebhookId};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{Page, StoreError};
pub use webhooks_core::testing::fixtures::{attempt, base_time};

/// A listing that needs more pages than this is broken (a cursor that loops).
const MAX_PAGES: usize = 200;

pub fn at(seconds_after_base: u64) -> Timestamp {
    base_time().plus(Duration::from_secs(seconds_after_base))
}

/// An event type no other case (or earlier run) uses, so listings by event are
/// isolated. Stores do not check types against the catalogue.
pub fn unique_event_type(tag: &str) -> String {
    format!(
        "conformance.{tag}.{}",
        EventId::generate().as_str().to_lowercase()
    )
}

/// A new webhook with a fresh id.
pub fn webhook(event: &str, clients: ClientScope, enabled: bool) -> Webhook {
    Webhook {
        id: WebhookId::generate(),
        name: "conformance".into(),
        url: "https://receiver.example/hook".into(),
        event: event.into(),
        clients,
        enabled,
        secret_ref: None,
        disabled_reason: (!enabled).then(|| "disabled by an admin".to_owned()),
        version: 1,
        created_at: base_time(),
        updated_at: base_time(),
        failing_since: None,
        rate_limit_per_second: None,
        header_names: Vec::new(),
    }
}

pub fn only(clients: &[&str]) -> ClientScope {
    ClientScope::Only(clients.iter().map(|c| (*c).to_owned()).collect())
}

/// Follows `next_cursor` from the first page to the last and returns the pages,
/// asserting that no page exceeds `limit`, that every page but the last is full, and
/// that a cursor never repeats.
pub async fn walk_pages<T, F, Fut>(limit: usize, mut fetch: F) -> Vec<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut pages = Vec::new();
    let mut cursors = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(cursor.clone()).await.expect("a page");
        assert!(
            page.items.len() <= limit,
            "a page of {} items exceeds the limit {limit}",
            page.items.len()
        );
        let last = page.next_cursor.is_none();
        if !last {
            assert_eq!(
                page.items.len(),
                limit,
                "a page followed by another must be full"
            );
        }
        pages.push(page.items);
        match page.next_cursor {
            None => return pages,
            Some(next) => {
                assert!(!cursors.contains(&next), "the cursor {next:?} repeated");
                cursors.push(next.clone());
                cursor = Some(next);
            }
        }
    }
    panic!("listing did not end within {MAX_PAGES} pages");
}
