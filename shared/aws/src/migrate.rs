//! The subscription backfill (`webhooks migrate subscriptions`): gives every webhook
//! of the table the subscription items and the listing attributes (`sub`,
//! `webhook_id`) that the code of this version writes, then writes the marker
//! (`meta#subscriptions`) that switches fan-out and listing to them. Idempotent: it
//! rewrites what is there.
//!
//! Each webhook is written in the transaction of a normal edit, anchored on the
//! version the scan read (`SET sub, webhook_id` on that version): a webhook edited
//! since is skipped, its edit having written its own subscriptions. Subscription items no
//! state of their webhook wants (left by an interrupted write) are removed, those of
//! a webhook that no longer exists only while it still does not.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::subscription::{subscriptions_of, Subscription, SubscriptionChange};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::domain::webhook::Webhook;
use webhooks_core::ports::StoreError;

use crate::error::{mapping_error, sdk_error};
use crate::expr::Expression;
use crate::subscription_item::{
    self, is_subscription, marker_item, parse_partition, Item, MARKER_ID,
};
use crate::webhook_item::from_item;
use crate::webhook_writes::{condition_check, send, write, Anchor, Call, Written};

/// What the scan found: each webhook with the subscriptions it has now, and the
/// subscription items of webhooks it did not find.
#[derive(Debug, Default, Clone)]
pub struct MigrationPlan {
    webhooks: Vec<(Webhook, BTreeSet<Subscription>)>,
    orphans: Vec<(WebhookId, Subscription)>,
}

impl MigrationPlan {
    pub fn webhooks(&self) -> usize {
        self.webhooks.len()
    }
}

/// What the backfill did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Webhooks found by the scan.
    pub webhooks: usize,
    /// Webhooks written with their subscriptions.
    pub migrated: usize,
    /// Webhooks edited (or deleted) since the scan, left to that edit.
    pub skipped: usize,
    /// Subscription items removed because no webhook state wants them.
    pub removed: usize,
}

fn attribute<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// Reads the whole table (strongly consistent) into a plan.
pub async fn read_plan(client: &Client, table: &str) -> Result<MigrationPlan, StoreError> {
    let mut webhooks = BTreeMap::new();
    let mut subscriptions: BTreeMap<WebhookId, BTreeSet<Subscription>> = BTreeMap::new();
    let mut start = None;
    loop {
        let output = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error("Scan"))?;
        for item in output.items.unwrap_or_default() {
            if attribute(&item, "id") == Some(MARKER_ID) {
                continue;
            }
            if is_subscription(&item) {
                let parsed = attribute(&item, "sub")
                    .and_then(parse_partition)
                    .zip(attribute(&item, "webhook_id").map(WebhookId::from_trusted));
                let (sub, id) = parsed.ok_or_else(|| {
                    mapping_error("subscription item")(format!("{:?}", attribute(&item, "id")))
                })?;
                subscriptions.entry(id).or_default().insert(sub);
            } else {
                let webhook = from_item(item)?;
                webhooks.insert(webhook.id.clone(), webhook);
            }
        }
        start = output.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let mut plan = MigrationPlan::default();
    for (id, subs) in subscriptions {
        if !webhooks.contains_key(&id) {
            plan.orphans
                .extend(subs.into_iter().map(|sub| (id.clone(), sub)));
        } else if let Some(webhook) = webhooks.remove(&id) {
            plan.webhooks.push((webhook, subs));
        }
    }
    plan.webhooks
        .extend(webhooks.into_values().map(|w| (w, BTreeSet::new())));
    Ok(plan)
}

/// Writes the plan, then the marker.
pub async fn apply(
    client: &Client,
    table: &str,
    plan: &MigrationPlan,
    now: Timestamp,
) -> Result<MigrationReport, StoreError> {
    let mut report = MigrationReport {
        webhooks: plan.webhooks.len(),
        ..MigrationReport::default()
    };
    for (webhook, existing) in &plan.webhooks {
        let wanted = subscriptions_of(webhook);
        let change = SubscriptionChange {
            delete: existing.difference(&wanted).cloned().collect(),
            put: wanted.into_iter().collect(),
        };
        match write(client, table, Anchor::Touch(webhook), &change).await? {
            Written::Done => {
                report.migrated += 1;
                report.removed += change.delete.len();
            }
            Written::AnchorRefused => report.skipped += 1,
        }
    }
    for (id, sub) in &plan.orphans {
        if remove_orphan(client, table, id, sub).await? {
            report.removed += 1;
        }
    }
    client
        .put_item()
        .table_name(table)
        .set_item(Some(marker_item(&now.to_string())))
        .send()
        .await
        .map_err(sdk_error("PutItem"))?;
    Ok(report)
}

/// Reads and applies: the whole backfill.
pub async fn migrate_subscriptions(
    client: &Client,
    table: &str,
    now: Timestamp,
) -> Result<MigrationReport, StoreError> {
    let plan = read_plan(client, table).await?;
    apply(client, table, &plan, now).await
}

/// Deletes a subscription item of a webhook that does not exist, if it still does
/// not (a webhook being created writes its items with itself).
async fn remove_orphan(
    client: &Client,
    table: &str,
    id: &WebhookId,
    sub: &Subscription,
) -> Result<bool, StoreError> {
    let mut expr = Expression::default();
    let name = expr.name("id");
    expr.condition = Some(format!("attribute_not_exists({name})"));
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(subscription_item::key(sub, id)))
        .build()
        .map_err(mapping_error("Delete"))?;
    let items = vec![
        condition_check(table, id, &expr)?,
        TransactWriteItem::builder().delete(delete).build(),
    ];
    Ok(matches!(send(client, items).await?, Call::Done))
}
