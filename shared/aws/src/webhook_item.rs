//! A webhook as an item of the webhooks table: the webhook's JSON with the secret's
//! ARN as `secret_arn` (never the secret); absent optional fields are left out of the
//! item; `sub` = `webhooks` and `webhook_id` = `id` put it in the listing's partition
//! of `by_subscription`. Shapes: `docs/storage.md`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::SecretRef;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::StoreError;

use crate::error::mapping_error;

/// A webhook as stored in the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WebhookItem {
    id: WebhookId,
    name: String,
    url: String,
    event: String,
    clients: ClientScope,
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_arn: Option<SecretRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    version: u64,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failing_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate_limit_per_second: Option<u32>,
    /// The custom headers' names (their values are in the secret).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    header_names: Vec<String>,
}

impl From<&Webhook> for WebhookItem {
    fn from(webhook: &Webhook) -> Self {
        let webhook = webhook.clone();
        Self {
            id: webhook.id,
            name: webhook.name,
            url: webhook.url,
            event: webhook.event,
            clients: webhook.clients,
            enabled: webhook.enabled,
            secret_arn: webhook.secret_ref,
            disabled_reason: webhook.disabled_reason,
            version: webhook.version,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
            failing_since: webhook.failing_since,
            rate_limit_per_second: webhook.rate_limit_per_second,
            header_names: webhook.header_names,
        }
    }
}

impl From<WebhookItem> for Webhook {
    fn from(item: WebhookItem) -> Self {
        Self {
            id: item.id,
            name: item.name,
            url: item.url,
            event: item.event,
            clients: item.clients,
            enabled: item.enabled,
            secret_ref: item.secret_arn,
            disabled_reason: item.disabled_reason,
            version: item.version,
            created_at: item.created_at,
            updated_at: item.updated_at,
            failing_since: item.failing_since,
            rate_limit_per_second: item.rate_limit_per_second,
            header_names: item.header_names,
        }
    }
}

#[derive(Serialize)]
struct Key<'a> {
    id: &'a WebhookId,
}

type Item = HashMap<String, AttributeValue>;

/// The `by_subscription` partition that holds every webhook item (the listing's),
/// sorted by `webhook_id` = `id`. Subscription partitions always hold a `#`.
pub(crate) const LIST_PARTITION: &str = "webhooks";

pub(crate) fn to_item(webhook: &Webhook) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(WebhookItem::from(webhook)).map_err(mapping_error("webhook item"))?;
    item.insert(
        "sub".to_owned(),
        AttributeValue::S(LIST_PARTITION.to_owned()),
    );
    item.insert(
        "webhook_id".to_owned(),
        AttributeValue::S(webhook.id.as_str().to_owned()),
    );
    Ok(item)
}

pub(crate) fn from_item(item: Item) -> Result<Webhook, StoreError> {
    serde_dynamo::from_item::<_, WebhookItem>(item)
        .map(Webhook::from)
        .map_err(mapping_error("webhook item"))
}

pub(crate) fn key(id: &WebhookId) -> Result<Item, StoreError> {
    serde_dynamo::to_item(Key { id }).map_err(mapping_error("webhook key"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A webhook with every attribute an item holds set but the optional ones.
    pub(crate) fn webhook() -> Webhook {
        let at = Timestamp::parse("2026-11-28T12:00:00Z").unwrap();
        Webhook {
            id: WebhookId::from_trusted("wh_01JDX3M5Q8Z0V6K2W9Y4T7R1AB"),
            name: "SIEM relay".into(),
            url: "https://example.com/hook".into(),
            event: "report.publish_status".into(),
            clients: ClientScope::Only(vec!["acme".into(), "globex".into()]),
            enabled: true,
            secret_ref: Some(SecretRef::new(
                "arn:aws:secretsmanager:eu-west-1:1:secret:webhooks/wh_1-AbCdEf",
            )),
            disabled_reason: None,
            version: 3,
            created_at: at,
            updated_at: at,
            failing_since: None,
            rate_limit_per_second: None,
            header_names: Vec::new(),
        }
    }

    #[test]
    fn an_item_is_the_webhook_json_with_the_secret_arn() {
        let item = to_item(&webhook()).unwrap();
        assert_eq!(
            item["id"],
            AttributeValue::S("wh_01JDX3M5Q8Z0V6K2W9Y4T7R1AB".into())
        );
        assert_eq!(
            item["event"],
            AttributeValue::S("report.publish_status".into())
        );
        assert_eq!(item["version"], AttributeValue::N("3".into()));
        assert_eq!(item["enabled"], AttributeValue::Bool(true));
        assert_eq!(
            item["created_at"],
            AttributeValue::S("2026-11-28T12:00:00.000Z".into())
        );
        assert!(item["secret_arn"]
            .as_s()
            .unwrap()
            .starts_with("arn:aws:secretsmanager:"));
        assert!(!item.contains_key("secret_ref"));
        assert_eq!(item["sub"], AttributeValue::S("webhooks".into()));
        assert_eq!(item["webhook_id"], item["id"]);
        assert!(!item.contains_key("failing_since"), "absent, not NULL");
        assert!(
            !item.contains_key("rate_limit_per_second"),
            "absent, not NULL"
        );
        assert!(!item.contains_key("header_names"), "absent, not []");
        assert_eq!(
            item["clients"],
            AttributeValue::L(vec![
                AttributeValue::S("acme".into()),
                AttributeValue::S("globex".into())
            ])
        );
    }

    #[test]
    fn items_round_trip_for_every_client_scope() {
        let mut hook = webhook();
        assert_eq!(from_item(to_item(&hook).unwrap()).unwrap(), hook);
        hook.clients = ClientScope::all();
        hook.secret_ref = None;
        hook.disabled_reason = Some("410 Gone".into());
        hook.failing_since = Some(hook.created_at);
        hook.rate_limit_per_second = Some(250);
        hook.header_names = vec!["Authorization".into(), "X-Key".into()];
        let item = to_item(&hook).unwrap();
        assert_eq!(
            item["header_names"],
            AttributeValue::L(vec![
                AttributeValue::S("Authorization".into()),
                AttributeValue::S("X-Key".into())
            ])
        );
        assert_eq!(item["clients"], AttributeValue::S("all".into()));
        assert_eq!(
            item["rate_limit_per_second"],
            AttributeValue::N("250".into())
        );
        assert_eq!(from_item(item).unwrap(), hook);
    }

    #[test]
    fn null_attributes_read_as_absent() {
        let mut item = to_item(&webhook()).unwrap();
        item.insert("failing_since".into(), AttributeValue::Null(true));
        item.insert("disabled_reason".into(), AttributeValue::Null(true));
        let read = from_item(item).unwrap();
        assert_eq!(read.failing_since, None);
        assert_eq!(read.disabled_reason, None);
    }

    #[test]
    fn an_item_from_before_the_rate_limit_reads_without_one() {
        // GIVEN an item written before webhooks had a rate limit (no such attribute)
        let mut hook = webhook();
        hook.rate_limit_per_second = Some(5);
        let mut item = to_item(&hook).unwrap();
        item.remove("rate_limit_per_second");
        // WHEN it is read
        let read = from_item(item).unwrap();
        // THEN the webhook has no rate limit, and a NULL attribute reads the same
        assert_eq!(read.rate_limit_per_second, None);
        let mut item = to_item(&hook).unwrap();
        item.insert("rate_limit_per_second".into(), AttributeValue::Null(true));
        assert_eq!(from_item(item).unwrap().rate_limit_per_second, None);
    }
}
