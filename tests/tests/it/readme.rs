//! The README's receiver snippets are the tested files under examples/verify/,
//! verbatim: if a snippet changes, the README must change with it.

use std::path::PathBuf;

fn repo_file(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lines of `path` from the one starting with `start` up to (not including) the
/// next one starting with `end`.
fn region(path: &str, start: &str, end: &str) -> String {
    let text = repo_file(path);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("{path}: no line starts with {start:?}"));
    let to = from
        + lines[from..]
            .iter()
            .position(|l| l.starts_with(end))
            .unwrap_or_else(|| panic!("{path}: no line starts with {end:?}"));
    format!("{}\n", lines[from..to].join("\n").trim_end())
}

#[test]
fn the_readme_embeds_each_verification_snippet_verbatim() {
    let readme = repo_file("README.md");
    for (path, start, end, fence) in [
        (
            "examples/verify/python/verify.py",
            "import base64",
            "# --- self-checks",
            "```python\n",
        ),
        (
            "examples/verify/node/verify.js",
            "const crypto",
            "// --- self-checks",
            "```js\n",
        ),
        (
            "examples/verify/rust/src/lib.rs",
            "use base64",
            "#[cfg(test)]",
            "```rust\n",
        ),
    ] {
        let snippet = format!("{fence}{}```", region(path, start, end));
        assert!(
            readme.contains(&snippet),
            "README.md does not embed {path} as it is now; copy its region again"
        );
    }
}

#[test]
fn the_readme_embeds_each_producer_snippet_verbatim() {
    let readme = repo_file("README.md");
    for (path, start, end, fence) in [
        (
            "examples/produce/python/send_event.py",
            "import json",
            "# --- end of snippet",
            "```python\n",
        ),
        (
            "examples/produce/rust/src/lib.rs",
            "use aws_sdk_sqs",
            "#[cfg(test)]",
            "```rust\n",
        ),
    ] {
        let snippet = format!("{fence}{}```", region(path, start, end));
        assert!(
            readme.contains(&snippet),
            "README.md does not embed {path} as it is now; copy its region again"
        );
    }
}

#[test]
fn the_readme_opens_with_the_two_commands() {
    let readme = repo_file("README.md");
    let quick_start = &readme[..readme
        .find("### Walk-through")
        .expect("a walk-through section")];
    assert!(quick_start.contains("make run"));
    assert!(quick_start.contains("make test"));
}
