//! The AWS service limits the adapters respect, and the small computations that keep
//! requests within them. The emulator does not enforce several of these (it accepts a
//! 26-item BatchWriteItem), so they are unit-tested here.

use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

/// Items in one DynamoDB `BatchWriteItem` call.
pub const MAX_BATCH_WRITE_ITEMS: usize = 25;
/// One DynamoDB item, attribute names included: 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// Levels of maps and lists DynamoDB takes in one attribute.
pub const MAX_NESTING_DEPTH: usize = 32;
/// Entries in one SQS `SendMessageBatch` call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// One SQS message (body and attributes), and one `SendMessageBatch` call: 256 KiB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The same limit for a whole `SendMessageBatch` call.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// SQS `DelaySeconds` at most: 15 minutes.
pub const MAX_DELAY: Duration = Duration::from_secs(900);
/// A DLQ `reason` attribute is cut to this many bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// SQS `DelaySeconds` for a wanted delay: rounded up to whole seconds (so a task
/// never arrives before its time by a fraction), at most [`MAX_DELAY`].
pub fn delay_seconds(delay: Duration) -> i32 {
    let capped = delay.min(MAX_DELAY);
    let seconds = capped.as_secs() + u64::from(capped.subsec_nanos() > 0);
    i32::try_from(seconds.min(MAX_DELAY.as_secs())).unwrap_or(900)
}

/// Whether a delay is longer than SQS can hold a message back, so the task must
/// carry its own not-before time and be put back when it arrives early.
pub fn needs_chaining(delay: Duration) -> bool {
    delay > MAX_DELAY
}

/// Splits entries of the given sizes, in order, into runs of at most `max_entries`
/// entries and at most `max_bytes` bytes. An entry larger than `max_bytes` on its
/// own gets a run of its own (the caller refuses it before sending).
pub fn batches(sizes: &[usize], max_entries: usize, max_bytes: usize) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, size) in sizes.iter().enumerate() {
        let full = index - start == max_entries || bytes + size > max_bytes;
        if index > start && full {
            runs.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        runs.push(start..sizes.len());
    }
    runs
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a
/// character boundary.
pub fn truncate(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An upper bound of an item's size as DynamoDB counts it: attribute names and
/// string and binary values by their bytes, numbers at up to 21 bytes (about one
/// byte per two significant digits, plus one), booleans and nulls one byte, and
/// lists and maps three bytes plus one per element, map keys included.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        // A type this SDK version does not know: count its worst case.
        _ => MAX_ITEM_BYTES,
    }
}

/// How deeply maps and lists nest in an item's attributes: 0 when every attribute is
/// a scalar or a set, 1 for a map or list of scalars, and one more for each map or
/// list inside. DynamoDB refuses an item deeper than [`MAX_NESTING_DEPTH`].
pub fn nesting_depth(item: &HashMap<String, AttributeValue>) -> usize {
    item.values().map(value_depth).max().unwrap_or(0)
}

fn value_depth(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::L(items) => 1 + items.iter().map(value_depth).max().unwrap_or(0),
        AttributeValue::M(map) => 1 + map.values().map(value_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn number_size(number: &str) -> usize {
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    (digits.div_ceil(2) + 1).min(21)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_whole_seconds_rounded_up_and_at_most_15_minutes() {
        assert_eq!(delay_seconds(Duration::ZERO), 0);
        assert_eq!(delay_seconds(Duration::from_millis(4_001)), 5);
        assert_eq!(delay_seconds(Duration::from_secs(5)), 5);
        assert_eq!(delay_seconds(Duration::from_secs(900)), 900);
        assert_eq!(delay_seconds(Duration::from_millis(900_500)), 900);
        assert_eq!(delay_seconds(Duration::from_secs(10 * 3600)), 900);
        assert!(!needs_chaining(Duration::from_secs(900)));
        assert!(needs_chaining(Duration::from_secs(901)));
    }

    #[test]
    fn batches_hold_at_most_ten_entries() {
        let runs = batches(&[10; 23], MAX_BATCH_ENTRIES, MAX_BATCH_BYTES);
        assert_eq!(runs, vec![0..10, 10..20, 20..23]);
    }

    #[test]
    fn batches_hold_at_most_256_kib() {
        // Three 100 KiB entries: two fit in 256 KiB, the third starts a new batch.
        let runs = batches(&[100 * 1024; 3], MAX_BATCH_ENTRIES, MAX_BATCH_BYTES);
        assert_eq!(runs, vec![0..2, 2..3]);
        // Exactly 256 KiB fits.
        let runs = batches(&[128 * 1024, 128 * 1024, 1], 10, MAX_BATCH_BYTES);
        assert_eq!(runs, vec![0..2, 2..3]);
    }

    #[test]
    fn an_oversized_entry_gets_a_batch_of_its_own() {
        let runs = batches(&[1, MAX_BATCH_BYTES + 1, 1], 10, MAX_BATCH_BYTES);
        assert_eq!(runs, vec![0..1, 1..2, 2..3]);
        assert!(batches(&[], 10, 10).is_empty());
    }

    #[test]
    fn batch_write_runs_hold_at_most_25_items() {
        let runs = batches(&[1; 60], MAX_BATCH_WRITE_ITEMS, usize::MAX);
        let sizes: Vec<_> = runs.iter().map(|r| r.len()).collect();
        assert_eq!(sizes, [25, 25, 10]);
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("short", MAX_REASON_BYTES), "short");
    }

    #[test]
    fn item_sizes_count_names_values_and_nesting() {
        let item = HashMap::from([
            ("id".to_owned(), AttributeValue::S("wh_1".into())),
            ("n".to_owned(), AttributeValue::N("12345".into())),
            ("ok".to_owned(), AttributeValue::Bool(true)),
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([(
                    "k".to_owned(),
                    AttributeValue::L(vec![AttributeValue::S("ab".into())]),
                )])),
            ),
        ]);
        // id: 2 + 4; n: 1 + 4; ok: 2 + 1; m: 1 + 3 + (1 + 1 + (3 + 1 + 2))
        assert_eq!(item_size(&item), 6 + 5 + 3 + 1 + 3 + 8);
    }

    /// An item whose `data` is `levels` maps, one inside the other, around a number.
    fn nested(levels: usize) -> HashMap<String, AttributeValue> {
        let mut value = AttributeValue::N("1".into());
        for _ in 0..levels {
            value = AttributeValue::M(HashMap::from([("a".to_owned(), value)]));
        }
        HashMap::from([
            ("id".to_owned(), AttributeValue::S("wh_1".into())),
            ("data".to_owned(), value),
        ])
    }

    #[test]
    fn nesting_counts_each_map_and_list_inside_an_attribute() {
        // GIVEN items of scalars, of a list in a map, and of 32 and 33 nested maps
        let flat = HashMap::from([("id".to_owned(), AttributeValue::S("wh_1".into()))]);
        let list_in_map = HashMap::from([(
            "m".to_owned(),
            AttributeValue::M(HashMap::from([(
                "k".to_owned(),
                AttributeValue::L(vec![AttributeValue::Bool(true)]),
            )])),
        )]);
        // WHEN their depths are measured, THEN each map or list is one level
        assert_eq!(nesting_depth(&flat), 0);
        assert_eq!(nesting_depth(&list_in_map), 2);
        assert_eq!(nesting_depth(&nested(MAX_NESTING_DEPTH)), MAX_NESTING_DEPTH);
        assert_eq!(nesting_depth(&nested(33)), 33);
    }

    #[test]
    fn an_item_over_400_kb_is_recognised() {
        let big = HashMap::from([(
            "data".to_owned(),
            AttributeValue::S("x".repeat(MAX_ITEM_BYTES)),
        )]);
        assert!(item_size(&big) > MAX_ITEM_BYTES);
    }
}
