//! Re-indents JSON text for people, keeping the sender's key order (parsing into a
//! `serde_json::Value` would sort the keys).

/// Pretty-prints `json`, which must be valid JSON, with two-space indentation (the
/// layout of `serde_json::to_string_pretty`).
pub fn reindent(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while chars.next_if(|next| next.is_whitespace()).is_some() {}
                out.push(c);
                if chars.next_if_eq(&close).is_some() {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_serde_jsons_layout() {
        let value = json!({"a": [1, 2, {"b": null}], "c": {}, "d": [], "e": "x, y: {z}",
            "f": {"g": true, "h": -1.5e3}});
        let compact = serde_json::to_string(&value).unwrap();
        assert_eq!(
            reindent(&compact),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }

    #[test]
    fn keeps_key_order_and_escapes() {
        let text = r#"{ "z": "quote \" and \\", "a" : [ ] ,"m":{ }}"#;
        assert_eq!(
            reindent(text),
            "{\n  \"z\": \"quote \\\" and \\\\\",\n  \"a\": [],\n  \"m\": {}\n}"
        );
    }

    #[test]
    fn scalars_pass_through() {
        assert_eq!(reindent(" 42 "), "42");
        assert_eq!(reindent("\"a b\""), "\"a b\"");
    }
}
