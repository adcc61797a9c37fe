//! Subscriptions: the (event type, client) pairs a webhook receives, which stores keep
//! beside the webhook so that fan-out reads only the matches. A webhook has them only
//! while it is enabled: one per client of its list, or one for every client (`all`).

use std::collections::BTreeSet;

use crate::domain::webhook::{ClientScope, Webhook};

/// Whose events a subscription takes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Audience {
    /// Every client's (the webhook's scope is `all`).
    Everyone,
    /// One client's.
    Client(String),
}

/// One (event type, audience) pair of a webhook.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subscription {
    pub event: String,
    pub audience: Audience,
}

impl Subscription {
    /// The two subscriptions an event of `client_id` is delivered through: the
    /// client's own and everyone's.
    pub fn matching(event_type: &str, client_id: &str) -> [Subscription; 2] {
        [
            Subscription {
                event: event_type.to_owned(),
                audience: Audience::Client(client_id.to_owned()),
            },
            Subscription {
                event: event_type.to_owned(),
                audience: Audience::Everyone,
            },
        ]
    }
}

/// A webhook's subscriptions: none while it is disabled.
pub fn subscriptions_of(webhook: &Webhook) -> BTreeSet<Subscription> {
    if !webhook.enabled {
        return BTreeSet::new();
    }
    let of = |audience| Subscription {
        event: webhook.event.clone(),
        audience,
    };
    match &webhook.clients {
        ClientScope::All(_) => BTreeSet::from([of(Audience::Everyone)]),
        ClientScope::Only(ids) => ids
            .iter()
            .map(|id| of(Audience::Client(id.clone())))
            .collect(),
    }
}

/// What a write of a webhook does to its subscriptions: every subscription of the new
/// state is (re)written, since each holds a copy of the webhook; those of the old
/// state only are removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubscriptionChange {
    pub put: Vec<Subscription>,
    pub delete: Vec<Subscription>,
}

impl SubscriptionChange {
    /// From `before` (none: a new webhook) to `after` (none: a deletion).
    pub fn between(before: Option<&Webhook>, after: Option<&Webhook>) -> Self {
        let old = before.map(subscriptions_of).unwrap_or_default();
        let new = after.map(subscriptions_of).unwrap_or_default();
        Self {
            delete: old.difference(&new).cloned().collect(),
            put: new.into_iter().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.put.len() + self.delete.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixtures::webhook;

    fn client(event: &str, id: &str) -> Subscription {
        Subscription {
            event: event.into(),
            audience: Audience::Client(id.into()),
        }
    }

    #[test]
    fn a_client_scoped_webhook_has_one_subscription_per_client() {
        // GIVEN an enabled webhook of two clients, one listed twice
        let mut hook = webhook("report.publish_status");
        hook.clients = ClientScope::Only(vec!["acme".into(), "globex".into(), "acme".into()]);
        // WHEN its subscriptions are taken
        let subs = subscriptions_of(&hook);
        // THEN there is one per client
        assert_eq!(
            subs.into_iter().collect::<Vec<_>>(),
            vec![
                client("report.publish_status", "acme"),
                client("report.publish_status", "globex")
            ]
        );
    }

    #[test]
    fn an_all_clients_webhook_has_one_subscription_and_a_disabled_one_none() {
        // GIVEN a webhook of all clients
        let mut hook = webhook("report.publish_status");
        hook.clients = ClientScope::all();
        // THEN it has everyone's subscription, and none once disabled
        assert_eq!(
            subscriptions_of(&hook).into_iter().collect::<Vec<_>>(),
            vec![Subscription {
                event: "report.publish_status".into(),
                audience: Audience::Everyone
            }]
        );
        hook.enabled = false;
        assert!(subscriptions_of(&hook).is_empty());
    }

    #[test]
    fn an_edit_rewrites_the_new_subscriptions_and_removes_only_the_dropped_ones() {
        // GIVEN a webhook of acme and globex, edited to globex and initech
        let mut before = webhook("report.publish_status");
        before.clients = ClientScope::Only(vec!["acme".into(), "globex".into()]);
        let mut after = before.clone();
        after.clients = ClientScope::Only(vec!["globex".into(), "initech".into()]);
        // WHEN the change is planned
        let change = SubscriptionChange::between(Some(&before), Some(&after));
        // THEN both new ones are written and acme's removed
        assert_eq!(
            change.put,
            vec![
                client("report.publish_status", "globex"),
                client("report.publish_status", "initech")
            ]
        );
        assert_eq!(change.delete, vec![client("report.publish_status", "acme")]);
        // AND a deletion removes every one, a disabling too
        assert_eq!(
            SubscriptionChange::between(Some(&after), None).delete.len(),
            2
        );
        after.enabled = false;
        let disabling = SubscriptionChange::between(Some(&before), Some(&after));
        assert!(disabling.put.is_empty());
        assert_eq!(disabling.delete.len(), 2);
    }
}
