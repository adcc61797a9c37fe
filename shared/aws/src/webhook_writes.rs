//! Writes of a webhook item together with its subscription items: the calls of a
//! [`plan`](crate::subscription_plan::plan), each one `TransactWriteItems`.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::subscription::{Subscription, SubscriptionChange};
use webhooks_core::domain::webhook::Webhook;
use webhooks_core::ports::StoreError;

use crate::error::{mapping_error, sdk_error, AwsError};
use crate::expr::Expression;
use crate::subscription_item::{key as sub_key, to_subscription_item};
use crate::subscription_plan::{plan, Op};
use crate::webhook_item::{key, to_item, LIST_PARTITION};

/// The webhook item's own write, the first call's first item.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Anchor<'a> {
    /// A new webhook: only where no item has its id.
    Insert(&'a Webhook),
    /// The new state, only over `expected`.
    Replace { webhook: &'a Webhook, expected: u64 },
    /// The webhook's deletion, only of `expected`.
    Delete { id: &'a WebhookId, expected: u64 },
    /// The backfill: puts the item in the listing's partition (`sub`, `webhook_id`),
    /// only at the version read, so it never races an edit.
    Touch(&'a Webhook),
}

impl Anchor<'_> {
    fn id(&self) -> &WebhookId {
        match self {
            Anchor::Insert(w) | Anchor::Replace { webhook: w, .. } | Anchor::Touch(w) => &w.id,
            Anchor::Delete { id, .. } => id,
        }
    }

    /// The state the subscription items copy (none for a deletion).
    fn written(&self) -> Option<&Webhook> {
        match self {
            Anchor::Insert(w) | Anchor::Replace { webhook: w, .. } | Anchor::Touch(w) => Some(w),
            Anchor::Delete { .. } => None,
        }
    }
}

/// How a planned write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Every call was made (or a newer version took over the subscriptions).
    Done,
    /// The anchor's condition failed: nothing was written.
    AnchorRefused,
}

fn item_error(error: impl std::fmt::Display) -> StoreError {
    mapping_error("TransactWriteItems item")(error)
}

fn version_is(expr: &mut Expression, version: u64) -> Result<String, StoreError> {
    let id = expr.name("id");
    let name = expr.name("version");
    let value = expr.value("version", version)?;
    Ok(format!("attribute_exists({id}) AND {name} = {value}"))
}

/// The condition of a delete that spares an item of `version` or newer.
pub(crate) fn older_than(version: u64) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let id = expr.name("id");
    let name = expr.name("version");
    let value = expr.value("version", version)?;
    expr.condition = Some(format!("attribute_not_exists({id}) OR {name} < {value}"));
    Ok(expr)
}

fn anchor_item(table: &str, anchor: Anchor<'_>) -> Result<TransactWriteItem, StoreError> {
    let mut expr = Expression::default();
    let item = match anchor {
        Anchor::Insert(webhook) => {
            let id = expr.name("id");
            expr.condition = Some(format!("attribute_not_exists({id})"));
            put(table, to_item(webhook)?, &expr)?
        }
        Anchor::Replace { webhook, expected } => {
            expr.condition = Some(version_is(&mut expr, expected)?);
            put(table, to_item(webhook)?, &expr)?
        }
        Anchor::Delete { id, expected } => {
            expr.condition = Some(version_is(&mut expr, expected)?);
            delete(table, key(id)?, &expr)?
        }
        Anchor::Touch(webhook) => {
            let sub = expr.name("sub");
            let webhook_id = expr.name("webhook_id");
            expr.update = Some(format!(
                "SET {sub} = {}, {webhook_id} = {}",
                expr.value("list", LIST_PARTITION)?,
                expr.value("webhookid", webhook.id.as_str())?
            ));
            expr.condition = Some(version_is(&mut expr, webhook.version)?);
            expr.debug_check();
            let update = Update::builder()
                .table_name(table)
                .set_key(Some(key(&webhook.id)?))
                .set_update_expression(expr.update.clone())
                .set_condition_expression(expr.condition.clone())
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(item_error)?;
            TransactWriteItem::builder().update(update).build()
        }
    };
    Ok(item)
}

fn put(
    table: &str,
    item: crate::subscription_item::Item,
    expr: &Expression,
) -> Result<TransactWriteItem, StoreError> {
    expr.debug_check();
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(expr.condition.clone())
        .set_expression_attribute_names(expr.names())
        .set_expression_attribute_values(expr.values())
        .build()
        .map_err(item_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn delete(
    table: &str,
    key: crate::subscription_item::Item,
    expr: &Expression,
) -> Result<TransactWriteItem, StoreError> {
    expr.debug_check();
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(expr.condition.clone())
        .set_expression_attribute_names(expr.names())
        .set_expression_attribute_values(expr.values())
        .build()
        .map_err(item_error)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A transaction's check that the webhook item `id` meets `expr`'s condition.
pub(crate) fn condition_check(
    table: &str,
    id: &WebhookId,
    expr: &Expression,
) -> Result<TransactWriteItem, StoreError> {
    expr.debug_check();
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key(id)?))
        .set_condition_expression(expr.condition.clone())
        .set_expression_attribute_names(expr.names())
        .set_expression_attribute_values(expr.values())
        .build()
        .map_err(item_error)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

fn op_item(table: &str, anchor: Anchor<'_>, op: &Op) -> Result<TransactWriteItem, StoreError> {
    let id = anchor.id();
    match op {
        Op::Anchor => anchor_item(table, anchor),
        Op::CheckVersion(version) => {
            let mut expr = Expression::default();
            expr.condition = Some(version_is(&mut expr, *version)?);
            condition_check(table, id, &expr)
        }
        Op::Put(sub) => {
            let webhook = anchor
                .written()
                .ok_or_else(|| item_error("a subscription put without the webhook"))?;
            put(
                table,
                to_subscription_item(sub, webhook)?,
                &Expression::default(),
            )
        }
        Op::Delete(sub) => delete(table, sub_key(sub, id), &Expression::default()),
        Op::DeleteOlder(sub, version) => delete(table, sub_key(sub, id), &older_than(*version)?),
    }
}

/// How one call ended.
pub(crate) enum Call {
    Done,
    /// Refused because the condition of one of its items failed.
    Refused,
}

pub(crate) async fn send(
    client: &Client,
    items: Vec<TransactWriteItem>,
) -> Result<Call, StoreError> {
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(Call::Done),
        Err(error) => {
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                error.as_service_error()
            {
                if cancelled
                    .cancellation_reasons()
                    .iter()
                    .any(|r| r.code() == Some("ConditionalCheckFailed"))
                {
                    return Ok(Call::Refused);
                }
            }
            Err(sdk_error("TransactWriteItems")(error))
        }
    }
}

/// Writes the anchor and `change` as planned. After the first call, a failure is
/// reported as such: the webhook is written, some subscription items may be stale.
pub(crate) async fn write(
    client: &Client,
    table: &str,
    anchor: Anchor<'_>,
    change: &SubscriptionChange,
) -> Result<Written, StoreError> {
    let after = anchor.written().map(|w| w.version);
    for (index, call) in plan(after, change).into_iter().enumerate() {
        let items = call
            .iter()
            .map(|op| op_item(table, anchor, op))
            .collect::<Result<Vec<_>, _>>()?;
        let outcome = send(client, items).await.map_err(|error| {
            if index == 0 {
                error
            } else {
                unfinished(anchor.id(), &error)
            }
        })?;
        match (outcome, call.first()) {
            (Call::Done, _) => {}
            (Call::Refused, Some(Op::Anchor)) => return Ok(Written::AnchorRefused),
            // A newer version is stored: it wrote its own subscriptions.
            (Call::Refused, Some(Op::CheckVersion(_))) => return Ok(Written::Done),
            // An item a newer version subscribed again: the others one by one.
            (Call::Refused, _) => {
                for op in &call {
                    if let Op::DeleteOlder(sub, version) = op {
                        delete_older(client, table, anchor.id(), sub, *version)
                            .await
                            .map_err(|error| unfinished(anchor.id(), &error))?;
                    }
                }
            }
        }
    }
    Ok(Written::Done)
}

fn unfinished(id: &WebhookId, error: &StoreError) -> StoreError {
    AwsError::new(
        "TransactWriteItems",
        format!(
            "webhook {id} was written but not all of its subscription items \
             ({error}); save it again or run `webhooks migrate subscriptions`"
        ),
    )
    .into()
}

async fn delete_older(
    client: &Client,
    table: &str,
    id: &WebhookId,
    sub: &Subscription,
    version: u64,
) -> Result<(), StoreError> {
    let expr = older_than(version)?;
    expr.debug_check();
    match client
        .delete_item()
        .table_name(table)
        .set_key(Some(sub_key(sub, id)))
        .set_condition_expression(expr.condition.clone())
        .set_expression_attribute_names(expr.names())
        .set_expression_attribute_values(expr.values())
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(())
        }
        Err(error) => Err(sdk_error("DeleteItem")(error)),
    }
}
