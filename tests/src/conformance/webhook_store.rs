//! What every [`WebhookStore`] must do.

use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{StoreError, WebhookFilter, WebhookStore};

use super::support::{at, only, unique_event_type, walk_pages, webhook};

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! webhook_store_conformance {
    ($store:expr) => {
        $crate::conformance_tests!(
            webhook_store,
            $store,
            [
                insert_then_get_returns_the_same_webhook,
                get_of_an_unknown_id_is_none,
                insert_of_an_existing_id_is_a_conflict,
                replace_with_the_current_version_stores_the_new_state,
                replace_with_a_stale_version_is_a_conflict_and_changes_nothing,
                replace_of_an_unknown_webhook_is_not_found,
                delete_returns_the_removed_webhook_once,
                list_pages_visit_every_webhook_once_in_id_order,
                list_without_a_filter_visits_every_webhook_in_id_order,
                list_filters_by_event,
                list_filters_by_client_counting_all_client_webhooks,
                list_filters_by_enabled,
                list_with_a_client_filter_still_fills_its_pages,
                list_combines_filters,
                set_failing_since_records_and_clears_without_a_new_version,
                set_failing_since_of_an_unknown_webhook_is_not_found,
                a_second_start_of_failures_keeps_the_first,
            ]
        );
    };
}

async fn insert_all(store: &dyn WebhookStore, webhooks: &[Webhook]) {
    for webhook in webhooks {
        store.insert(webhook).await.expect("insert");
    }
}

fn ids(webhooks: &[Webhook]) -> Vec<WebhookId> {
    webhooks.iter().map(|w| w.id.clone()).collect()
}

fn sorted_ids(webhooks: &[Webhook]) -> Vec<WebhookId> {
    let mut ids = ids(webhooks);
    ids.sort();
    ids
}

/// Every page of a filtered listing, flattened.
async fn list_all(store: &dyn WebhookStore, filter: &WebhookFilter, limit: usize) -> Vec<Webhook> {
    walk_pages(limit, |cursor| async move {
        store.list(filter, limit, cursor.as_deref()).await
    })
    .await
    .concat()
}

pub async fn insert_then_get_returns_the_same_webhook(store: &dyn WebhookStore) {
    // GIVEN a webhook with every field set
    let mut hook = webhook(&unique_event_type("get"), only(&["acme", "globex"]), true);
    hook.secret_ref = Some(webhooks_core::domain::secret::SecretRef::new("ref:secret"));
    hook.failing_since = Some(at(7));
    hook.version = 4;
    // WHEN it is inserted and read back
    store.insert(&hook).await.expect("insert");
    let read = store.get(&hook.id).await.expect("get");
    // THEN it is unchanged
    assert_eq!(read, Some(hook));
}

pub async fn get_of_an_unknown_id_is_none(store: &dyn WebhookStore) {
    assert_eq!(store.get(&WebhookId::generate()).await.expect("get"), None);
}

pub async fn insert_of_an_existing_id_is_a_conflict(store: &dyn WebhookStore) {
    // GIVEN a stored webhook
    let hook = webhook(&unique_event_type("dup"), ClientScope::all(), true);
    store.insert(&hook).await.expect("insert");
    // WHEN another webhook with the same id is inserted
    let mut other = hook.clone();
    other.name = "impostor".into();
    let result = store.insert(&other).await;
    // THEN it is refused and the first one is kept
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(store.get(&hook.id).await.expect("get"), Some(hook));
}

pub async fn replace_with_the_current_version_stores_the_new_state(store: &dyn WebhookStore) {
    // GIVEN a stored webhook at version 1
    let hook = webhook(&unique_event_type("replace"), ClientScope::all(), true);
    store.insert(&hook).await.expect("insert");
    // WHEN it is replaced expecting version 1
    let mut edited = hook.clone();
    edited.name = "renamed".into();
    edited.event = unique_event_type("moved");
    edited.enabled = false;
    edited.clients = only(&["acme"]);
    edited.version = 2;
    edited.updated_at = at(60);
    store.replace(&edited, 1).await.expect("replace");
    // THEN the new state is stored (fan-out's view of it: `subscribers.rs`)
    assert_eq!(store.get(&hook.id).await.expect("get"), Some(edited));
}

pub async fn replace_with_a_stale_version_is_a_conflict_and_changes_nothing(
    store: &dyn WebhookStore,
) {
    // GIVEN a webhook already edited to version 2
    let hook = webhook(&unique_event_type("stale"), ClientScope::all(), true);
    store.insert(&hook).await.expect("insert");
    let mut second = hook.clone();
    second.version = 2;
    second.name = "second".into();
    store.replace(&second, 1).await.expect("replace");
    // WHEN an edit based on version 1 is replaced
    let mut stale = hook.clone();
    stale.version = 2;
    stale.name = "stale".into();
    let result = store.replace(&stale, 1).await;
    // THEN it conflicts and version 2 stays
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(store.get(&hook.id).await.expect("get"), Some(second));
}

pub async fn replace_of_an_unknown_webhook_is_not_found(store: &dyn WebhookStore) {
    let hook = webhook(&unique_event_type("ghost"), ClientScope::all(), true);
    let result = store.replace(&hook, 1).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(
        store.get(&hook.id).await.expect("get"),
        None,
        "replace must not create"
    );
}

pub async fn delete_returns_the_removed_webhook_once(store: &dyn WebhookStore) {
    // GIVEN a stored webhook
    let hook = webhook(&unique_event_type("delete"), ClientScope::all(), true);
    store.insert(&hook).await.expect("insert");
    // WHEN it is deleted twice
    let first = store.delete(&hook.id).await.expect("delete");
    let second = store.delete(&hook.id).await.expect("delete again");
    // THEN the first delete returns it, the second nothing, and it is gone
    assert_eq!(first, Some(hook.clone()));
    assert_eq!(second, None);
    assert_eq!(store.get(&hook.id).await.expect("get"), None);
}

pub async fn list_pages_visit_every_webhook_once_in_id_order(store: &dyn WebhookStore) {
    // GIVEN seven webhooks of one event type
    let event = unique_event_type("pages");
    let hooks: Vec<_> = (0..7)
        .map(|_| webhook(&event, ClientScope::all(), true))
        .collect();
    insert_all(store, &hooks).await;
    let filter = WebhookFilter {
        event: Some(event),
        ..WebhookFilter::default()
    };
    // WHEN they are listed three at a time
    let pages = walk_pages(3, |cursor| {
        let filter = &filter;
        async move { store.list(filter, 3, cursor.as_deref()).await }
    })
    .await;
    // THEN the pages hold 3, 3 and 1 (an empty page may end the walk), every webhook
    // once, in id order, exactly as stored
    let sizes: Vec<_> = pages.iter().map(Vec::len).filter(|n| *n > 0).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let listed = pages.concat();
    assert_eq!(ids(&listed), sorted_ids(&hooks));
    for hook in &hooks {
        assert!(listed.contains(hook), "{} listed as stored", hook.id);
    }
}

pub async fn list_without_a_filter_visits_every_webhook_in_id_order(store: &dyn WebhookStore) {
    // GIVEN five webhooks (the store may hold others)
    let event = unique_event_type("unfiltered");
    let hooks: Vec<_> = (0..5)
        .map(|_| webhook(&event, ClientScope::all(), true))
        .collect();
    insert_all(store, &hooks).await;
    // WHEN everything is listed two at a time
    let listed = list_all(store, &WebhookFilter::default(), 2).await;
    // THEN ids strictly increase and each of ours appears exactly once
    let all_ids = ids(&listed);
    assert!(
        all_ids.windows(2).all(|w| w[0] < w[1]),
        "id order, no repeats"
    );
    for hook in &hooks {
        assert_eq!(all_ids.iter().filter(|id| **id == hook.id).count(), 1);
    }
}

pub async fn list_filters_by_event(store: &dyn WebhookStore) {
    // GIVEN webhooks of two event types
    let (wanted, other) = (unique_event_type("wanted"), unique_event_type("other"));
    let hooks = [
        webhook(&wanted, ClientScope::all(), true),
        webhook(&other, ClientScope::all(), true),
        webhook(&wanted, ClientScope::all(), false),
    ];
    insert_all(store, &hooks).await;
    // WHEN listing one event type
    let filter = WebhookFilter {
        event: Some(wanted),
        ..WebhookFilter::default()
    };
    let listed = list_all(store, &filter, 10).await;
    // THEN only its webhooks, enabled or not, are listed
    assert_eq!(
        ids(&listed),
        sorted_ids(&[hooks[0].clone(), hooks[2].clone()])
    );
}

pub async fn list_filters_by_client_counting_all_client_webhooks(store: &dyn WebhookStore) {
    // GIVEN webhooks for all clients, for acme among others, and for globex only
    let event = unique_event_type("client");
    let for_all = webhook(&event, ClientScope::all(), true);
    let for_acme = webhook(&event, only(&["initech", "acme"]), true);
    let for_globex = webhook(&event, only(&["globex"]), true);
    insert_all(
        store,
        &[for_all.clone(), for_acme.clone(), for_globex.clone()],
    )
    .await;
    // WHEN listing the webhooks that hear acme
    let filter = WebhookFilter {
        event: Some(event.clone()),
        client: Some("acme".into()),
        ..WebhookFilter::default()
    };
    let listed = list_all(store, &filter, 10).await;
    // THEN the all-clients one and the one listing acme are returned
    assert_eq!(ids(&listed), sorted_ids(&[for_all.clone(), for_acme]));
    // AND a client nobody lists hears only the all-clients webhook
    let nobody = WebhookFilter {
        event: Some(event),
        client: Some("umbrella".into()),
        ..WebhookFilter::default()
    };
    assert_eq!(ids(&list_all(store, &nobody, 10).await), vec![for_all.id]);
}

pub async fn list_filters_by_enabled(store: &dyn WebhookStore) {
    // GIVEN two enabled webhooks and one disabled
    let event = unique_event_type("enabled");
    let hooks = [
        webhook(&event, ClientScope::all(), true),
        webhook(&event, ClientScope::all(), false),
        webhook(&event, only(&["acme"]), true),
    ];
    insert_all(store, &hooks).await;
    let filter = |enabled| WebhookFilter {
        event: Some(event.clone()),
        enabled: Some(enabled),
        ..WebhookFilter::default()
    };
    // WHEN listing enabled, then disabled ones
    let enabled = list_all(store, &filter(true), 10).await;
    let disabled = list_all(store, &filter(false), 10).await;
    // THEN each listing holds just those
    assert_eq!(
        ids(&enabled),
        sorted_ids(&[hooks[0].clone(), hooks[2].clone()])
    );
    assert_eq!(ids(&disabled), vec![hooks[1].id.clone()]);
}

pub async fn list_with_a_client_filter_still_fills_its_pages(store: &dyn WebhookStore) {
    // GIVEN ten webhooks of which every other one hears acme
    let event = unique_event_type("sparse");
    let hooks: Vec<_> = (0..10)
        .map(|i| {
            let clients = if i % 2 == 0 {
                only(&["acme"])
            } else {
                only(&["globex"])
            };
            webhook(&event, clients, true)
        })
        .collect();
    insert_all(store, &hooks).await;
    let filter = WebhookFilter {
        event: Some(event),
        client: Some("acme".into()),
        ..WebhookFilter::default()
    };
    // WHEN acme's webhooks are listed two at a time
    let pages = walk_pages(2, |cursor| {
        let filter = &filter;
        async move { store.list(filter, 2, cursor.as_deref()).await }
    })
    .await;
    // THEN the pages are full (walk_pages checks) and hold exactly acme's five
    let listed = pages.concat();
    let acme: Vec<_> = hooks.iter().step_by(2).cloned().collect();
    assert_eq!(ids(&listed), sorted_ids(&acme));
}

pub async fn list_combines_filters(store: &dyn WebhookStore) {
    // GIVEN webhooks differing in event, client scope and state
    let (event, other) = (
        unique_event_type("combined"),
        unique_event_type("elsewhere"),
    );
    let target = webhook(&event, only(&["acme"]), true);
    let hooks = [
        target.clone(),
        webhook(&event, only(&["acme"]), false),
        webhook(&event, only(&["globex"]), true),
        webhook(&other, only(&["acme"]), true),
    ];
    insert_all(store, &hooks).await;
    // WHEN filtering by all three
    let filter = WebhookFilter {
        event: Some(event),
        client: Some("acme".into()),
        enabled: Some(true),
    };
    // THEN only the webhook matching all of them is listed
    assert_eq!(list_all(store, &filter, 10).await, vec![target]);
}

pub async fn set_failing_since_records_and_clears_without_a_new_version(store: &dyn WebhookStore) {
    // GIVEN a stored webhook at version 3
    let mut hook = webhook(&unique_event_type("failing"), ClientScope::all(), true);
    hook.version = 3;
    store.insert(&hook).await.expect("insert");
    // WHEN its failures start being tracked
    store
        .set_failing_since(&hook.id, Some(at(30)))
        .await
        .expect("set");
    // THEN only failing_since changed: the version (an admin's If-Match) did not
    let mut expected = hook.clone();
    expected.failing_since = Some(at(30));
    assert_eq!(store.get(&hook.id).await.expect("get"), Some(expected));
    // AND an edit based on version 3 still succeeds afterwards
    let mut edited = hook.clone();
    edited.version = 4;
    edited.failing_since = Some(at(30));
    store.replace(&edited, 3).await.expect("replace");
    // AND clearing it after a success stores None, still without a new version
    store
        .set_failing_since(&hook.id, None)
        .await
        .expect("clear");
    let cleared = store.get(&hook.id).await.expect("get").expect("stored");
    assert_eq!(cleared.failing_since, None);
    assert_eq!(cleared.version, 4);
}

pub async fn a_second_start_of_failures_keeps_the_first(store: &dyn WebhookStore) {
    // GIVEN a webhook whose run of failures started at t30
    let hook = webhook(&unique_event_type("failing"), ClientScope::all(), true);
    store.insert(&hook).await.expect("insert");
    store
        .set_failing_since(&hook.id, Some(at(30)))
        .await
        .expect("set");
    // WHEN another process, from a stale read, records a start at t40
    store
        .set_failing_since(&hook.id, Some(at(40)))
        .await
        .expect("set again");
    // THEN the first start stays (the 5-day rule counts from it)
    let stored = store.get(&hook.id).await.expect("get").expect("stored");
    assert_eq!(stored.failing_since, Some(at(30)));
}

pub async fn set_failing_since_of_an_unknown_webhook_is_not_found(store: &dyn WebhookStore) {
    let id = WebhookId::generate();
    let result = store.set_failing_since(&id, Some(at(1))).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(
        store.get(&id).await.expect("get"),
        None,
        "must not create a webhook"
    );
}
