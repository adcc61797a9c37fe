//! What fan-out reads from every [`WebhookStore`]: `subscribers(event type, client)`
//! finds exactly the enabled webhooks of the type whose scope takes the client, and
//! follows every write of a webhook (edits of its clients, its event type, its
//! enabled flag; its deletion).

use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::WebhookStore;

use super::support::{at, only, unique_event_type, webhook};

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! subscribers_conformance {
    ($store:expr) => {
        $crate::conformance_tests!(
            subscribers,
            $store,
            [
                a_client_scoped_webhook_is_found_for_its_clients_only,
                an_all_clients_webhook_is_found_for_any_client,
                a_disabled_webhook_is_not_found,
                disabling_and_enabling_again_removes_and_restores_it,
                an_edited_client_list_moves_the_subscription,
                an_edited_event_type_moves_the_subscription,
                a_deleted_webhook_is_not_found,
                a_found_webhook_is_the_stored_one,
                a_webhook_of_a_hundred_clients_is_found_for_each_through_every_edit,
            ]
        );
    };
}

async fn found(store: &dyn WebhookStore, event: &str, client: &str) -> Vec<WebhookId> {
    let mut ids: Vec<WebhookId> = store
        .subscribers(event, client)
        .await
        .expect("subscribers")
        .into_iter()
        .map(|w| w.id)
        .collect();
    ids.sort();
    ids
}

/// `webhook` replaced by `edit` of it at the next version.
async fn edit(
    store: &dyn WebhookStore,
    webhook: &Webhook,
    change: impl FnOnce(&mut Webhook),
) -> Webhook {
    let mut edited = webhook.clone();
    change(&mut edited);
    edited.version = webhook.version + 1;
    edited.updated_at = at(edited.version);
    store
        .replace(&edited, webhook.version)
        .await
        .expect("replace");
    edited
}

pub async fn a_client_scoped_webhook_is_found_for_its_clients_only(store: &dyn WebhookStore) {
    // GIVEN a webhook of acme and globex
    let event = unique_event_type("scoped");
    let hook = webhook(&event, only(&["acme", "globex"]), true);
    store.insert(&hook).await.expect("insert");
    // THEN acme's and globex's events find it, initech's do not
    assert_eq!(found(store, &event, "acme").await, vec![hook.id.clone()]);
    assert_eq!(found(store, &event, "globex").await, vec![hook.id]);
    assert!(found(store, &event, "initech").await.is_empty());
}

pub async fn an_all_clients_webhook_is_found_for_any_client(store: &dyn WebhookStore) {
    // GIVEN a webhook of all clients and one of acme, and one of another type
    let event = unique_event_type("everyone");
    let all = webhook(&event, ClientScope::all(), true);
    let acme = webhook(&event, only(&["acme"]), true);
    let other = webhook(&unique_event_type("other"), ClientScope::all(), true);
    for hook in [&all, &acme, &other] {
        store.insert(hook).await.expect("insert");
    }
    // THEN any client's events find the first, acme's both, and never the other type
    let mut both = vec![all.id.clone(), acme.id.clone()];
    both.sort();
    assert_eq!(found(store, &event, "acme").await, both);
    assert_eq!(
        found(store, &event, "someone-new").await,
        vec![all.id.clone()]
    );
    assert_eq!(found(store, &event, "*").await, vec![all.id]);
}

pub async fn a_disabled_webhook_is_not_found(store: &dyn WebhookStore) {
    // GIVEN disabled webhooks of all clients and of acme
    let event = unique_event_type("disabled");
    store
        .insert(&webhook(&event, ClientScope::all(), false))
        .await
        .expect("insert");
    store
        .insert(&webhook(&event, only(&["acme"]), false))
        .await
        .expect("insert");
    // THEN no event finds them
    assert!(found(store, &event, "acme").await.is_empty());
}

pub async fn disabling_and_enabling_again_removes_and_restores_it(store: &dyn WebhookStore) {
    // GIVEN an enabled webhook of acme
    let event = unique_event_type("toggle");
    let hook = webhook(&event, only(&["acme"]), true);
    store.insert(&hook).await.expect("insert");
    // WHEN it is disabled (as delivery does after a 410)
    let disabled = edit(store, &hook, |w| {
        w.enabled = false;
        w.disabled_reason = Some("410 Gone".into());
    })
    .await;
    // THEN it is not found
    assert!(found(store, &event, "acme").await.is_empty());
    // AND once enabled again it is
    edit(store, &disabled, |w| {
        w.enabled = true;
        w.disabled_reason = None;
    })
    .await;
    assert_eq!(found(store, &event, "acme").await, vec![hook.id]);
}

pub async fn an_edited_client_list_moves_the_subscription(store: &dyn WebhookStore) {
    // GIVEN a webhook of acme and globex
    let event = unique_event_type("moved");
    let hook = webhook(&event, only(&["acme", "globex"]), true);
    store.insert(&hook).await.expect("insert");
    // WHEN its list becomes globex and initech
    let edited = edit(store, &hook, |w| w.clients = only(&["globex", "initech"])).await;
    // THEN acme's events no longer find it, the others' do
    assert!(found(store, &event, "acme").await.is_empty());
    assert_eq!(found(store, &event, "globex").await, vec![hook.id.clone()]);
    assert_eq!(found(store, &event, "initech").await, vec![hook.id.clone()]);
    // AND once it takes all clients, and back to one, it follows
    let everyone = edit(store, &edited, |w| w.clients = ClientScope::all()).await;
    assert_eq!(found(store, &event, "acme").await, vec![hook.id.clone()]);
    edit(store, &everyone, |w| w.clients = only(&["initech"])).await;
    assert!(found(store, &event, "acme").await.is_empty());
    assert_eq!(found(store, &event, "initech").await, vec![hook.id]);
}

pub async fn an_edited_event_type_moves_the_subscription(store: &dyn WebhookStore) {
    // GIVEN a webhook of one event type
    let (first, second) = (unique_event_type("from"), unique_event_type("to"));
    let hook = webhook(&first, ClientScope::all(), true);
    store.insert(&hook).await.expect("insert");
    // WHEN it is moved to another
    edit(store, &hook, |w| w.event = second.clone()).await;
    // THEN only the new type's events find it
    assert!(found(store, &first, "acme").await.is_empty());
    assert_eq!(found(store, &second, "acme").await, vec![hook.id]);
}

pub async fn a_deleted_webhook_is_not_found(store: &dyn WebhookStore) {
    // GIVEN webhooks of acme and of all clients
    let event = unique_event_type("deleted");
    let scoped = webhook(&event, only(&["acme"]), true);
    let all = webhook(&event, ClientScope::all(), true);
    store.insert(&scoped).await.expect("insert");
    store.insert(&all).await.expect("insert");
    // WHEN both are deleted
    store.delete(&scoped.id).await.expect("delete");
    store.delete(&all.id).await.expect("delete");
    // THEN neither is found
    assert!(found(store, &event, "acme").await.is_empty());
}

pub async fn a_found_webhook_is_the_stored_one(store: &dyn WebhookStore) {
    // GIVEN a webhook with its optional fields set, edited once
    let event = unique_event_type("copy");
    let mut hook = webhook(&event, only(&["acme"]), true);
    hook.secret_ref = Some(webhooks_core::domain::secret::SecretRef::new("ref:secret"));
    hook.rate_limit_per_second = Some(7);
    hook.header_names = vec!["X-Key".into()];
    store.insert(&hook).await.expect("insert");
    let edited = edit(store, &hook, |w| {
        w.url = "https://receiver.example/new".into()
    })
    .await;
    // WHEN fan-out reads it
    let read = store
        .subscribers(&event, "acme")
        .await
        .expect("subscribers");
    // THEN it is the stored state (its run of failures aside: delivery reads that
    // from the webhook itself before it acts on it)
    assert_eq!(read.len(), 1);
    let mut copy = read[0].clone();
    copy.failing_since = edited.failing_since;
    assert_eq!(copy, edited);
}

pub async fn a_webhook_of_a_hundred_clients_is_found_for_each_through_every_edit(
    store: &dyn WebhookStore,
) {
    // GIVEN a webhook of 100 clients (the most a webhook may have: more writes than
    // one DynamoDB transaction holds)
    let event = unique_event_type("hundred");
    let names =
        |prefix: &str| -> Vec<String> { (0..100).map(|i| format!("{prefix}{i:03}")).collect() };
    let old = names("old");
    let mut hook = webhook(&event, ClientScope::Only(old.clone()), true);
    hook.clients = ClientScope::Only(old.clone());
    store.insert(&hook).await.expect("insert");
    assert_eq!(found(store, &event, "old000").await, vec![hook.id.clone()]);
    assert_eq!(found(store, &event, "old099").await, vec![hook.id.clone()]);
    // WHEN its list is replaced by 100 other clients
    let new = names("new");
    let edited = edit(store, &hook, |w| w.clients = ClientScope::Only(new.clone())).await;
    // THEN every new client finds it and no old one does
    for client in old.iter().chain(&new) {
        let expected = if client.starts_with("new") {
            vec![hook.id.clone()]
        } else {
            vec![]
        };
        assert_eq!(found(store, &event, client).await, expected, "{client}");
    }
    // AND once deleted, none does
    store.delete(&edited.id).await.expect("delete");
    for client in &new {
        assert!(found(store, &event, client).await.is_empty(), "{client}");
    }
}
