//! `GET /webhooks` on the webhooks table: a Query of an index in id order, read in
//! bounded pages (`Limit` = the page size plus one) with the filters as a filter
//! expression: `by_event` when the listing names an event type, else the partition
//! `webhooks` of `by_subscription` (every webhook item, sorted by `webhook_id` =
//! `id`). Both are eventually consistent: a webhook written a moment ago may be missing from a page.
//! Until the subscription backfill has run (no marker), items written before it are
//! not in that partition, so a listing without an event type scans the table as
//! before.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::Client;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{Page, StoreError, WebhookFilter};

use crate::error::sdk_error;
use crate::expr::{all_of, Expression};
use crate::subscription_item::SUBSCRIPTION_INDEX;
use crate::webhook_item::{from_item, LIST_PARTITION};
use crate::webhooks::EVENT_INDEX;

/// The filter's clauses that are not part of a key condition.
fn filter_clauses(
    expr: &mut Expression,
    filter: &WebhookFilter,
    event_in_key: bool,
) -> Result<Vec<String>, StoreError> {
    let mut clauses = Vec::new();
    if let (Some(event), false) = (&filter.event, event_in_key) {
        let name = expr.name("event");
        clauses.push(format!("{name} = {}", expr.value("event", event)?));
    }
    if let Some(enabled) = filter.enabled {
        let name = expr.name("enabled");
        clauses.push(format!("{name} = {}", expr.value("enabled", enabled)?));
    }
    if let Some(client) = &filter.client {
        // `clients` is the string "all" or a list of client ids.
        let clients = expr.name("clients");
        let all = expr.value("all", ClientScope::all())?;
        let client = expr.value("client", client)?;
        clauses.push(format!(
            "({clients} = {all} OR contains({clients}, {client}))"
        ));
    }
    Ok(clauses)
}

/// The Query of one page: key condition on the index (after `after`), filter.
pub(crate) fn list_query(
    filter: &WebhookFilter,
    after: Option<&str>,
) -> Result<(&'static str, Expression), StoreError> {
    let mut expr = Expression::default();
    let (index, partition, sort) = match &filter.event {
        Some(event) => {
            let name = expr.name("event");
            let partition = format!("{name} = {}", expr.value("event", event)?);
            (EVENT_INDEX, partition, "id")
        }
        None => {
            let name = expr.name("sub");
            let partition = format!("{name} = {}", expr.value("list", LIST_PARTITION)?);
            (SUBSCRIPTION_INDEX, partition, "webhook_id")
        }
    };
    let mut key = vec![partition];
    if let Some(after) = after {
        let id = expr.name(sort);
        key.push(format!("{id} > {}", expr.value("after", after)?));
    }
    expr.condition = all_of(key);
    let clauses = filter_clauses(&mut expr, filter, true)?;
    expr.filter = all_of(clauses);
    Ok((index, expr))
}

/// The Scan filter of the listing before the backfill: only webhook items (they have
/// `event`), the filter, `id > after`.
pub(crate) fn scan_filter(
    filter: &WebhookFilter,
    after: Option<&str>,
) -> Result<Expression, StoreError> {
    let mut expr = Expression::default();
    let event = expr.name("event");
    let mut clauses = vec![format!("attribute_exists({event})")];
    if let Some(after) = after {
        let id = expr.name("id");
        clauses.push(format!("{id} > {}", expr.value("after", after)?));
    }
    clauses.extend(filter_clauses(&mut expr, filter, false)?);
    expr.filter = all_of(clauses);
    Ok(expr)
}

/// One page by a Query of the listing's index: reads pages of `limit + 1` items
/// until `limit + 1` matches (one more tells another page follows) or the end.
pub(crate) async fn query_page(
    client: &Client,
    table: &str,
    filter: &WebhookFilter,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Page<Webhook>, StoreError> {
    let (index, expr) = list_query(filter, cursor)?;
    expr.debug_check();
    let page_size = i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX);
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = client
            .query()
            .table_name(table)
            .index_name(index)
            .set_key_condition_expression(expr.condition.clone())
            .set_filter_expression(expr.filter.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .limit(page_size)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error("Query"))?;
        for item in output.items.unwrap_or_default() {
            let webhook = from_item(item)?;
            // The filter expression did this; the core's rule is the one kept.
            if filter.matches(&webhook) {
                items.push(webhook);
            }
        }
        start = output.last_evaluated_key;
        if items.len() > limit || start.is_none() {
            break;
        }
    }
    items.truncate(limit + 1);
    Ok(Page::from_one_more(items, limit, |w| {
        w.id.as_str().to_owned()
    }))
}

/// One page by a Scan of the whole table (strongly consistent), keeping the
/// `limit + 1` smallest matching ids after the cursor: the listing before the
/// backfill.
pub(crate) async fn scan_page(
    client: &Client,
    table: &str,
    filter: &WebhookFilter,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Page<Webhook>, StoreError> {
    let expr = scan_filter(filter, cursor)?;
    expr.debug_check();
    let mut smallest: BTreeMap<WebhookId, Webhook> = BTreeMap::new();
    let mut start = None;
    loop {
        let output = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_filter_expression(expr.filter.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error("Scan"))?;
        for item in output.items.unwrap_or_default() {
            let webhook = from_item(item)?;
            if filter.matches(&webhook) {
                smallest.insert(webhook.id.clone(), webhook);
                if smallest.len() > limit + 1 {
                    smallest.pop_last();
                }
            }
        }
        start = output.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let items: Vec<Webhook> = smallest.into_values().collect();
    Ok(Page::from_one_more(items, limit, |w| {
        w.id.as_str().to_owned()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listing_expression_uses_exactly_the_placeholders_it_defines() {
        let filters = [
            WebhookFilter::default(),
            WebhookFilter {
                event: Some("report.publish_status".into()),
                ..WebhookFilter::default()
            },
            WebhookFilter {
                client: Some("acme".into()),
                enabled: Some(false),
                ..WebhookFilter::default()
            },
            WebhookFilter {
                event: Some("report.publish_status".into()),
                client: Some("acme".into()),
                enabled: Some(true),
            },
        ];
        for filter in &filters {
            for after in [None, Some("wh_1")] {
                let (_, query) = list_query(filter, after).unwrap();
                assert_eq!(query.check(), Ok(()), "{query:?}");
                let scan = scan_filter(filter, after).unwrap();
                assert_eq!(scan.check(), Ok(()), "{scan:?}");
            }
        }
    }

    #[test]
    fn a_listing_by_event_queries_by_event_and_any_other_the_listing_index() {
        // GIVEN a filter by event and one without
        let by_event = WebhookFilter {
            event: Some("report.publish_status".into()),
            ..WebhookFilter::default()
        };
        // THEN the first queries by_event, keyed on the event, the other the listing's
        // partition of by_subscription
        let (index, expr) = list_query(&by_event, Some("wh_1")).unwrap();
        assert_eq!(index, EVENT_INDEX);
        assert_eq!(
            expr.condition.as_deref(),
            Some("#event = :event AND #id > :after")
        );
        assert!(expr.filter.is_none());
        let (index, expr) = list_query(&WebhookFilter::default(), None).unwrap();
        assert_eq!(index, SUBSCRIPTION_INDEX);
        assert_eq!(expr.condition.as_deref(), Some("#sub = :list"));
        let (_, expr) = list_query(&WebhookFilter::default(), Some("wh_1")).unwrap();
        assert_eq!(
            expr.condition.as_deref(),
            Some("#sub = :list AND #webhookid > :after")
        );
    }
}
