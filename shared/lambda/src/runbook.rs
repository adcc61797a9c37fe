//! For tests: the CloudWatch Logs Insights queries of the runbook (docs/operations.md),
//! read from its fenced blocks marked ```` ```logs-insights GROUP ````, and checked
//! against captured log lines: every field a query names, and every message it
//! filters on with `message = "..."`, must appear in some line of the function.

use std::collections::BTreeSet;

use serde_json::Value;

/// One query of the runbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    /// The log fields it reads (not `@timestamp` and the other `@` fields of Logs
    /// Insights, not the names it makes with `as`).
    pub fields: BTreeSet<String>,
    /// The literal values it compares `message` with (`message = "..."`).
    pub messages: BTreeSet<String>,
}

/// The queries of group `group` in the repository's own runbook, docs/operations.md.
pub fn runbook_queries(group: &str) -> Vec<Query> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/operations.md");
    let page = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the runbook {}: {e}", path.display()));
    queries(&page, group)
}

/// The queries of the blocks fenced ```` ```logs-insights GROUP ```` in `markdown`.
pub fn queries(markdown: &str, group: &str) -> Vec<Query> {
    let opening = format!("```logs-insights {group}");
    let mut found = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() != opening {
            continue;
        }
        let text: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        found.push(parse(&text.join("\n")));
    }
    found
}

/// The words a query uses that are the language's, not fields.
const KEYWORDS: &[&str] = &[
    "fields", "filter", "stats", "sort", "limit", "display", "parse", "dedup", "by", "as", "and",
    "or", "not", "like", "in", "desc", "asc",
];

/// Reads a query's fields and `message` literals.
pub fn parse(text: &str) -> Query {
    let mut fields = BTreeSet::new();
    let mut aliases = BTreeSet::new();
    let mut messages = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    // The tokens read so far; a string or a regular expression is one token.
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || (c == '/' && words.last().is_some_and(|w| w == "like")) {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .map_or(chars.len(), |p| i + 1 + p);
            let literal: String = chars[i + 1..end.min(chars.len())].iter().collect();
            let before: Vec<&str> = words.iter().rev().take(2).map(String::as_str).collect();
            if c != '/' && before == ["=", "message"] {
                messages.insert(literal);
            }
            words.push(format!("{c}literal"));
            i = end + 1;
        } else if c.is_alphanumeric() || c == '_' || c == '@' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "_@.".contains(chars[i])) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let is_call = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
            let after_as = words.last().is_some_and(|w| w == "as");
            let is_number = word.starts_with(|c: char| c.is_ascii_digit());
            if after_as {
                aliases.insert(word.clone());
            } else if !is_call
                && !is_number
                && !word.starts_with('@')
                && !KEYWORDS.contains(&word.as_str())
            {
                fields.insert(word.clone());
            }
            words.push(word);
        } else {
            if !c.is_whitespace() {
                words.push(c.to_string());
            }
            i += 1;
        }
    }
    Query {
        text: text.to_owned(),
        fields: fields.difference(&aliases).cloned().collect(),
        messages,
    }
}

/// What in `queries` no line of `lines` has: one sentence per missing field or message.
pub fn unmatched(queries: &[Query], lines: &[Value]) -> Vec<String> {
    let keys: BTreeSet<&str> = lines
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|line| line.keys().map(String::as_str))
        .collect();
    let said: BTreeSet<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    let mut problems = Vec::new();
    for query in queries {
        for field in &query.fields {
            if !keys.contains(field.as_str()) {
                problems.push(format!(
                    "no log line has the field {field:?} of:\n{}",
                    query.text
                ));
            }
        }
        for message in &query.messages {
            if !said.contains(message.as_str()) {
                problems.push(format!(
                    "no log line says {message:?}, as in:\n{}",
                    query.text
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_names_its_fields_but_not_functions_aliases_literals_or_insights_fields() {
        // GIVEN a query with a filter, a stats with an alias, a regex and a sort
        let text = r#"fields @timestamp, request_id, webhook_id
| filter message = "delivery failed" and level like /WARN|ERROR/
| stats count(*) as failures by webhook_id, bin(5m)
| sort failures desc
| limit 20"#;
        // WHEN it is parsed
        let query = parse(text);
        // THEN its fields are the log's, its message literal is read
        let fields: Vec<&str> = query.fields.iter().map(String::as_str).collect();
        assert_eq!(fields, ["level", "message", "request_id", "webhook_id"]);
        assert_eq!(
            query.messages,
            BTreeSet::from(["delivery failed".to_owned()])
        );
    }

    #[test]
    fn the_blocks_of_one_group_are_read_from_markdown() {
        // GIVEN a page with a block for each of two groups and a plain one
        let page = "text\n```logs-insights delivery\nfields a\n```\n```text\nfields b\n```\n\
                    ```logs-insights log-writer\nfields c\n```\n";
        // WHEN the delivery group's are read, THEN only its block is
        let found = queries(page, "delivery");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].fields, BTreeSet::from(["a".to_owned()]));
    }

    #[test]
    fn a_field_or_message_no_line_has_is_reported() {
        // GIVEN a query and lines that have one of its fields and none of its messages
        let query = parse(r#"fields webhook_id, nope | filter message = "gone""#);
        let lines = vec![serde_json::json!({"message": "here", "webhook_id": "wh_1"})];
        // WHEN they are compared, THEN the missing field and message are named
        let problems = unmatched(&[query], &lines);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("\"nope\""));
        assert!(problems[1].contains("\"gone\""));
    }
}
