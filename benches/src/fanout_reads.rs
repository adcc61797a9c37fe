//! `bench fanout-reads`: what fan-out reads from DynamoDB (moto) per event, before
//! the subscription backfill (every webhook of the type from `by_event`, filtered in
//! the process) and after it (two `by_subscription` queries), with 10 and with 3,333
//! webhooks of the type of which 10 take the event's client.
//!
//! Read units are DynamoDB's eventually consistent charge of the same queries the
//! store sends, computed from the items each page returns (0.5 per 4 KB of the page's
//! items, rounded up, by DynamoDB's item-size rules): moto's `ConsumedCapacity`
//! answers 1 unit per call whatever it read, so it is not used. Bytes are the Query responses' bodies
//! (through the counting proxy); CPU is this process's, per event, for the store's
//! `subscribers` call against the emulator directly (no proxy in the process), cache
//! off.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use webhooks_aws::{DynamoWebhookStore, EVENT_INDEX, SUBSCRIPTION_INDEX};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::webhook::ClientScope;
use webhooks_core::ports::SubscriberView;
use webhooks_core::testing::fixtures::{base_time, webhook};
use webhooks_tests::moto::Moto;

use crate::aws_requests::CountingProxy;
use crate::proc::cpu_time;
use crate::Result;

const EVENT: &str = "report.publish_status";
const CLIENT: &str = "acme";
/// Events measured on the read of before the backfill, at most.
const OLD_READ_EVENTS: u32 = 4;

/// The table sizes of the report: webhooks of the event type.
pub const TABLE_SIZES: &[usize] = &[10, 3_333];
/// Webhooks of the type that take [`CLIENT`]'s events (half scoped to it, half all).
pub const MATCHING: usize = 10;

/// One (table size, read path) measurement, per event.
#[derive(Debug, Clone)]
pub struct FanoutReads {
    pub webhooks_of_type: usize,
    pub path: &'static str,
    pub matched: usize,
    pub queries: f64,
    pub read_units: f64,
    pub bytes: f64,
    pub cpu_ms: f64,
}

/// DynamoDB's size of an item: attribute names and values (numbers as ~their digits).
fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>()
            }
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// Read units (computed from the items read) and query calls of one query, every
/// page, as the store sends it.
async fn charge(
    client: &Client,
    table: &str,
    index: &str,
    key: &str,
    value: &str,
) -> Result<(f64, usize)> {
    let (mut units, mut calls) = (0.0, 0);
    let mut start = None;
    // Bounded by the table: every page moves the start key forward.
    loop {
        let page = client
            .query()
            .table_name(table)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", AttributeValue::S(value.to_owned()))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        calls += 1;
        let bytes: usize = page.items().iter().map(item_size).sum();
        units += 0.5 * bytes.div_ceil(4096).max(1) as f64;
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    Ok((units, calls))
}

/// A new table holding `webhooks_of_type` webhooks of [`EVENT`] with their
/// subscription items (as their creation writes them), loaded 25 items to a
/// `BatchWriteItem` (the emulator takes minutes and gigabytes for thousands of
/// transactions), without the marker: fan-out reads them the old way until
/// [`mark_migrated`].
async fn fill(moto: &Moto, webhooks_of_type: usize) -> Result<String> {
    let table = moto.create_webhooks_table().await;
    let mut items = Vec::new();
    for i in 0..webhooks_of_type {
        let mut hook = webhook(EVENT);
        hook.id = WebhookId::generate();
        hook.clients = match i {
            i if i < MATCHING / 2 => {
                ClientScope::Only(vec![CLIENT.to_owned(), format!("other{i}")])
            }
            i if i < MATCHING => ClientScope::all(),
            i => ClientScope::Only(vec![format!("client{i}")]),
        };
        items.extend(webhooks_aws::items_of(&hook)?);
    }
    for chunk in items.chunks(25) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item.clone())).build()?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_>>()?;
        // Bounded: a request left unprocessed is sent again, at most 10 times.
        for _ in 0..10 {
            let output = moto
                .clients
                .dynamodb
                .batch_write_item()
                .request_items(&table, requests)
                .send()
                .await?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(&table))
                .unwrap_or_default();
            if requests.is_empty() {
                break;
            }
        }
        if !requests.is_empty() {
            return Err("the emulator left items unprocessed 10 times".into());
        }
    }
    Ok(table)
}

/// Writes the marker the backfill writes last: fan-out then reads the subscriptions.
async fn mark_migrated(moto: &Moto, table: &str) -> Result<()> {
    moto.clients
        .dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(webhooks_aws::marker(&base_time().to_string())))
        .send()
        .await?;
    Ok(())
}

/// `events` fan-out reads of one path: (matched, bytes per event, CPU ms per event).
async fn measure(
    moto: &Moto,
    proxy: &CountingProxy,
    proxied: &Client,
    table: &str,
    events: u32,
) -> Result<(usize, f64, f64)> {
    let direct = DynamoWebhookStore::new(moto.clients.dynamodb.clone(), table);
    let matched = direct.subscribers(EVENT, CLIENT).await?.len();
    let cpu_before = cpu_time(std::process::id())?;
    for _ in 0..events {
        direct.subscribers(EVENT, CLIENT).await?;
    }
    let cpu = cpu_time(std::process::id())?.saturating_sub(cpu_before);
    let through = DynamoWebhookStore::new(proxied.clone(), table);
    through.subscribers(EVENT, CLIENT).await?;
    let key = ("dynamodb".to_owned(), "Query".to_owned());
    let before = proxy
        .tallies()
        .response_bytes
        .get(&key)
        .copied()
        .unwrap_or(0);
    for _ in 0..events {
        through.subscribers(EVENT, CLIENT).await?;
    }
    let bytes = proxy
        .tallies()
        .response_bytes
        .get(&key)
        .copied()
        .unwrap_or(0)
        - before;
    let n = f64::from(events.max(1));
    Ok((matched, bytes as f64 / n, cpu.as_secs_f64() * 1e3 / n))
}

/// Both paths on tables of `sizes` webhooks of the type.
pub async fn run(sizes: &[usize], events: u32) -> Result<Vec<FanoutReads>> {
    let moto = Moto::connect().await;
    let proxy = CountingProxy::start(&moto.endpoint).await?;
    let proxied = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&moto.sdk)
            .endpoint_url(&proxy.endpoint)
            .build(),
    );
    let mut figures = Vec::new();
    for &size in sizes {
        let table = fill(&moto, size).await?;
        // The old read is slow on the emulator (it filters every item of the table per
        // query) and its CPU is tens of milliseconds an event: a few events measure it.
        let old_events = events.min(OLD_READ_EVENTS);
        let (matched, bytes, cpu_ms) = measure(&moto, &proxy, &proxied, &table, old_events).await?;
        let (read_units, queries) =
            charge(&moto.clients.dynamodb, &table, EVENT_INDEX, "event", EVENT).await?;
        figures.push(FanoutReads {
            webhooks_of_type: size,
            path: "before the backfill: by_event, every page",
            matched,
            queries: queries as f64,
            read_units,
            bytes,
            cpu_ms,
        });
        mark_migrated(&moto, &table).await?;
        let (matched, bytes, cpu_ms) = measure(&moto, &proxy, &proxied, &table, events).await?;
        let mut units = 0.0;
        let mut calls = 0;
        for sub in [format!("{EVENT}#client:{CLIENT}"), format!("{EVENT}#all")] {
            let (u, c) = charge(
                &moto.clients.dynamodb,
                &table,
                SUBSCRIPTION_INDEX,
                "sub",
                &sub,
            )
            .await?;
            units += u;
            calls += c;
        }
        figures.push(FanoutReads {
            webhooks_of_type: size,
            path: "after: by_subscription, 2 queries",
            matched,
            queries: calls as f64,
            read_units: units,
            bytes,
            cpu_ms,
        });
    }
    Ok(figures)
}

/// The report's section: the figures and how they were taken.
pub fn section(figures: &[FanoutReads]) -> String {
    format!(
        "### Fan-out reads per event\n\nWhat the delivery function's fan-out reads from \
         DynamoDB (moto) for one event of a client that {MATCHING} webhooks of the type \
         take, before the subscription backfill (every webhook of the type from \
         `by_event`) and after it (two `by_subscription` queries); the store's own \
         `subscribers` call, cache off. Read units are DynamoDB's eventually consistent \
         charge computed from the items each page returned (moto reports 1 per call); CPU is \
         the bench process's (the SDK's deserialisation and the decoding) per event, the \
         emulator's apart.\n\n{}\n",
        render(figures)
    )
}

/// The figures as a Markdown table.
pub fn render(figures: &[FanoutReads]) -> String {
    let mut out = String::from(
        "| webhooks of the type | read | matched | queries | read units | bytes read | CPU per event |\n|---|---|---|---|---|---|---|\n",
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {:.0} KB | {:.2} ms |\n",
            f.webhooks_of_type,
            f.path,
            f.matched,
            f.queries,
            f.read_units,
            f.bytes / 1000.0,
            f.cpu_ms
        ));
    }
    out
}
