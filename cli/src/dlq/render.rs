//! What `dlq list` and `dlq redrive` print: a line (or a JSON object) per message,
//! and the counts of a redrive. A message shows its id, times, `reason` and the start
//! of its body, never its other attributes.

use serde_json::json;
use webhooks_core::domain::time::Timestamp;

use super::port::DlqMessage;
use super::redrive::Report;

/// Characters of a body shown.
const PREVIEW_CHARS: usize = 80;
/// Characters of a reason shown on a text line (JSON has it whole).
const REASON_CHARS: usize = 160;

/// The messages, a line each, or a JSON object per line.
pub fn messages(messages: &[DlqMessage], json: bool) -> String {
    messages
        .iter()
        .map(|message| {
            if json {
                format!("{}\n", as_json(message))
            } else {
                format!("{}\n", line(message))
            }
        })
        .collect()
}

fn sent_at(message: &DlqMessage) -> Option<String> {
    message
        .sent_at_ms
        .map(|ms| Timestamp::from_unix_millis(ms).to_string())
}

/// `id  sent  receives N  reason: ...  body: ...`
fn line(message: &DlqMessage) -> String {
    let mut text = format!(
        "{}  {}  receives {}",
        message.id,
        sent_at(message).as_deref().unwrap_or("-"),
        message
            .receive_count
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
    );
    if let Some(group) = &message.group_id {
        text.push_str(&format!("  group {}", one_line(group, PREVIEW_CHARS)));
    }
    if let Some(reason) = &message.reason {
        text.push_str(&format!("  reason: {}", one_line(reason, REASON_CHARS)));
    }
    text.push_str(&format!(
        "  body: {}",
        one_line(&message.body, PREVIEW_CHARS)
    ));
    text
}

fn as_json(message: &DlqMessage) -> serde_json::Value {
    json!({
        "id": message.id,
        "sent_at": sent_at(message),
        "receive_count": message.receive_count,
        "reason": message.reason,
        "group_id": message.group_id,
        "body_preview": one_line(&message.body, PREVIEW_CHARS),
    })
}

/// The counts, as a sentence or a JSON object.
pub fn report(report: &Report, json: bool) -> String {
    if json {
        return format!("{}\n", serde_json::to_value(report).unwrap_or_default());
    }
    let mut text = format!(
        "moved {} to {}, skipped {} refused",
        report.moved, report.source, report.skipped
    );
    if report.skipped > 0 {
        text.push_str(" (they carry a reason attribute; --include-refused moves them too)");
    }
    if report.failed > 0 {
        text.push_str(&format!(", {} failed (left in the DLQ)", report.failed));
    }
    if report.not_deleted > 0 {
        text.push_str(&format!(
            ", {} sent but not deleted (in both queues)",
            report.not_deleted
        ));
    }
    text.push('\n');
    text
}

/// `text` on one line (control characters as spaces), cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let folded: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let folded = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn message(reason: Option<&str>, body: &str) -> DlqMessage {
        DlqMessage {
            id: "m-1".into(),
            receipt: "r".into(),
            body: body.into(),
            sent_at_ms: Some(1_764_331_205_000),
            receive_count: Some(6),
            reason: reason.map(str::to_owned),
            group_id: None,
            attributes: HashMap::new(),
        }
    }

    #[test]
    fn a_listed_message_shows_id_time_receives_reason_and_a_short_body() {
        // GIVEN a refused body with a long, multi-line body
        let body = format!("{{\"not\":\n json {}", "x".repeat(200));

        // WHEN it is rendered as a line
        let text = messages(&[message(Some("unreadable: expected value"), &body)], false);

        // THEN it is one line with the facts and at most 80 characters of body
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.starts_with(
                "m-1  2025-11-28T12:00:05.000Z  receives 6  reason: unreadable: expected value  body: {\"not\": json xxx"
            ),
            "{text}"
        );
        assert!(text.trim_end().ends_with('…'), "{text}");
    }

    #[test]
    fn a_listed_message_as_json_has_its_fields() {
        // GIVEN a message without a reason, WHEN it is rendered as JSON
        let text = messages(&[message(None, "{\"id\": \"evt_1\"}")], true);

        // THEN the line is an object with a null reason
        let value: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(value["id"], "m-1");
        assert_eq!(value["receive_count"], 6);
        assert_eq!(value["reason"], serde_json::Value::Null);
        assert_eq!(value["body_preview"], "{\"id\": \"evt_1\"}");
    }

    #[test]
    fn a_report_says_what_moved_and_what_was_skipped() {
        // GIVEN a run that moved 3 and skipped 1
        let done = Report {
            source: "https://q/src".into(),
            moved: 3,
            skipped: 1,
            complete: true,
            ..Report::default()
        };

        // THEN the sentence and the object say so
        assert_eq!(
            report(&done, false),
            "moved 3 to https://q/src, skipped 1 refused (they carry a reason attribute; --include-refused moves them too)\n"
        );
        let value: serde_json::Value = serde_json::from_str(&report(&done, true)).unwrap();
        assert_eq!(
            value,
            json!({"source": "https://q/src", "moved": 3, "skipped": 1, "failed": 0,
                   "not_deleted": 0, "complete": true})
        );
    }
}
