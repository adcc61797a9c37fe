//! DynamoDB expressions with their attribute names and values. Real DynamoDB
//! refuses a request that defines a placeholder its expressions do not use (the
//! emulator does not), so [`Expression::check`] verifies both directions and every
//! builder is unit-tested with it.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use webhooks_core::ports::StoreError;

use crate::error::mapping_error;

#[derive(Debug, Default, Clone)]
pub(crate) struct Expression {
    /// A `ConditionExpression` or a `KeyConditionExpression`.
    pub condition: Option<String>,
    pub filter: Option<String>,
    pub update: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    /// `#attribute` (letters and digits only), defined as a name placeholder.
    pub fn name(&mut self, attribute: &str) -> String {
        let placeholder: String = std::iter::once('#')
            .chain(attribute.chars().filter(char::is_ascii_alphanumeric))
            .collect();
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    /// `:key`, defined as the value placeholder for `value`, mapped as items are.
    pub fn value<T: Serialize>(&mut self, key: &str, value: T) -> Result<String, StoreError> {
        let placeholder = format!(":{key}");
        let value = serde_dynamo::to_attribute_value(value).map_err(mapping_error("expression"))?;
        self.values.insert(placeholder.clone(), value);
        Ok(placeholder)
    }

    /// `ExpressionAttributeNames`, or `None` when there are none (an empty map is
    /// refused).
    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// `ExpressionAttributeValues`, or `None` when there are none.
    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// Every defined placeholder is used by an expression, and every placeholder an
    /// expression uses is defined.
    pub fn check(&self) -> Result<(), String> {
        let used: BTreeSet<String> = [&self.condition, &self.filter, &self.update]
            .into_iter()
            .flatten()
            .flat_map(|text| placeholders(text))
            .collect();
        let defined: BTreeSet<String> = self
            .names
            .keys()
            .chain(self.values.keys())
            .cloned()
            .collect();
        let unused: Vec<_> = defined.difference(&used).collect();
        let undefined: Vec<_> = used.difference(&defined).collect();
        if unused.is_empty() && undefined.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "unused placeholders {unused:?}, undefined placeholders {undefined:?}"
            ))
        }
    }

    /// [`Self::check`] in debug builds, before a request is sent.
    pub fn debug_check(&self) {
        debug_assert_eq!(self.check(), Ok(()), "{self:?}");
    }
}

/// The `#name` and `:value` tokens of an expression.
fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c == '#' || c == ':' {
            let mut end = start + 1;
            while let Some(&(i, next)) = chars.peek() {
                if next.is_ascii_alphanumeric() || next == '_' {
                    end = i + next.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            if end > start + 1 {
                found.push(text[start..end].to_owned());
            }
        }
    }
    found
}

/// `a AND b AND ...` of the given clauses, `None` when there are none.
pub(crate) fn all_of(clauses: Vec<String>) -> Option<String> {
    (!clauses.is_empty()).then(|| clauses.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_whole_tokens() {
        assert_eq!(
            placeholders("#a = :v1 AND contains(#list, :v10)"),
            ["#a", ":v1", "#list", ":v10"]
        );
    }

    #[test]
    fn an_unused_value_is_caught() {
        let mut expr = Expression::default();
        let id = expr.name("id");
        expr.value("unused", "x").unwrap();
        expr.condition = Some(format!("attribute_exists({id})"));
        let error = expr.check().unwrap_err();
        assert!(error.contains(":unused"), "{error}");
    }

    #[test]
    fn an_undefined_placeholder_is_caught() {
        let expr = Expression {
            filter: Some("#gone = :missing".into()),
            ..Expression::default()
        };
        assert!(expr.check().is_err());
    }

    #[test]
    fn empty_maps_are_not_sent() {
        let expr = Expression::default();
        assert!(expr.names().is_none() && expr.values().is_none());
        assert_eq!(expr.check(), Ok(()));
    }

    #[test]
    fn names_drop_characters_placeholders_cannot_hold() {
        let mut expr = Expression::default();
        assert_eq!(expr.name("failing_since"), "#failingsince");
        assert_eq!(expr.names().unwrap()["#failingsince"], "failing_since");
    }
}
