//! `bench fanout-reads`: what fan-out reads from DynamoDB (moto) per event, before
//! the subscription backfill (every webhook of the type from `by_event`, filtered in
//! the process) and after it (two `by_subscription` queries), with 10 and with 3,333
//! webhooks of the type of which 10 take the event's client.
//!
//! Read units are DynamoDB's `ConsumedCapacity` (`ReturnConsumedCapacity=TOTAL`) of
//! the same queries the store sends, or, when the emulator reports none, the
//! eventually consistent charge of the items read (0.5 a 4 KB of each query page,
//! rounded up), from their DynamoDB size. Bytes are the Query responses' bodies
//! (through the counting proxy); CPU is this process's, per event, for the store's
//! `subscribers` call against the emulator directly (no proxy in the process), cache
//! off.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use aws_sdk_dynamodb::Client;
use webhooks_aws::{DynamoWebhookStore, EVENT_INDEX, SUBSCRIPTION_INDEX};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::webhook::ClientScope;
use webhooks_core::ports::{SubscriberView, WebhookRegistry};
use webhooks_core::testing::fixtures::{base_time, webhook};
use webhooks_tests::moto::Moto;

use crate::aws_requests::CountingProxy;
use crate::proc::cpu_time;
use crate::Result;

const EVENT: &str = "report.publish_status";
const CLIENT: &str = "acme";
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
    /// Whether `read_units` came from the emulator (else computed from item sizes).
    pub reported_units: bool,
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

/// Read units and query calls of one query (every page), as the store sends it.
async fn charge(
    client: &Client,
    table: &str,
    index: &str,
    key: &str,
    value: &str,
) -> Result<(f64, bool, usize)> {
    let (mut units, mut reported, mut computed, mut calls) = (0.0, true, 0.0, 0);
    let mut start = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", AttributeValue::S(value.to_owned()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        calls += 1;
        match page.consumed_capacity().and_then(|c| c.capacity_units()) {
            Some(u) => units += u,
            None => reported = false,
        }
        let bytes: usize = page.items().iter().map(item_size).sum();
        computed += 0.5 * bytes.div_ceil(4096).max(1) as f64;
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    Ok((if reported { units } else { computed }, reported, calls))
}

async fn fill(moto: &Moto, webhooks_of_type: usize) -> Result<String> {
    let table = moto.create_webhooks_table().await;
    let store = DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &table);
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
        store.insert(&hook).await?;
    }
    Ok(table)
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
        let (matched, bytes, cpu_ms) = measure(&moto, &proxy, &proxied, &table, events).await?;
        let (read_units, reported, queries) =
            charge(&moto.clients.dynamodb, &table, EVENT_INDEX, "event", EVENT).await?;
        figures.push(FanoutReads {
            webhooks_of_type: size,
            path: "before the backfill: by_event, every page",
            matched,
            queries: queries as f64,
            read_units,
            reported_units: reported,
            bytes,
            cpu_ms,
        });
        webhooks_aws::migrate::migrate_subscriptions(&moto.clients.dynamodb, &table, base_time())
            .await?;
        let (matched, bytes, cpu_ms) = measure(&moto, &proxy, &proxied, &table, events).await?;
        let mut units = 0.0;
        let mut reported_all = true;
        let mut calls = 0;
        for sub in [format!("{EVENT}#client:{CLIENT}"), format!("{EVENT}#all")] {
            let (u, reported, c) = charge(
                &moto.clients.dynamodb,
                &table,
                SUBSCRIPTION_INDEX,
                "sub",
                &sub,
            )
            .await?;
            units += u;
            reported_all &= reported;
            calls += c;
        }
        figures.push(FanoutReads {
            webhooks_of_type: size,
            path: "after: by_subscription, 2 queries",
            matched,
            queries: calls as f64,
            read_units: units,
            reported_units: reported_all,
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
         charge computed from the items' sizes where the emulator reports none; CPU is the \
         bench process's (SDK deserialisation and decoding) per event.\n\n{}\n",
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
            "| {} | {} | {} | {} | {:.1}{} | {:.0} KB | {:.2} ms |\n",
            f.webhooks_of_type,
            f.path,
            f.matched,
            f.queries,
            f.read_units,
            if f.reported_units {
                ""
            } else {
                " (from item sizes)"
            },
            f.bytes / 1000.0,
            f.cpu_ms
        ));
    }
    out
}
