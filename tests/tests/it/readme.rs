//! The repository's own documentation: the receiver and producer snippets on the docs
//! pages are the tested files under `examples/`, verbatim (if a snippet changes, its
//! page must change with it); every relative link in README.md, CONTRIBUTING.md and
//! docs/*.md points to a file that exists (and, into a markdown file, to a heading
//! it has); the README opens with the two commands.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
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

/// Asserts that `page` embeds each (file, first line, end marker, fence) region.
fn assert_embeds(page: &str, snippets: &[(&str, &str, &str, &str)]) {
    let text = repo_file(page);
    for (path, start, end, fence) in snippets {
        let snippet = format!("{fence}{}```", region(path, start, end));
        assert!(
            text.contains(&snippet),
            "{page} does not embed {path} as it is now; copy its region again \
             (from the line starting {start:?} up to the one starting {end:?})"
        );
    }
}

#[test]
fn the_signature_page_embeds_each_verification_snippet_verbatim() {
    assert_embeds(
        "docs/verifying-signatures.md",
        &[
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
        ],
    );
}

#[test]
fn the_producers_page_embeds_each_producer_snippet_verbatim() {
    assert_embeds(
        "docs/producers.md",
        &[
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
        ],
    );
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

// --- links -------------------------------------------------------------------------

/// The documentation whose links must resolve: README.md, CONTRIBUTING.md, docs/*.md.
fn documentation() -> Vec<String> {
    let mut pages = vec!["README.md".to_owned(), "CONTRIBUTING.md".to_owned()];
    let mut docs: Vec<String> = std::fs::read_dir(repo_root().join("docs"))
        .expect("a docs/ directory")
        .map(|entry| entry.expect("a docs/ entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The lines of a markdown text outside fenced code blocks, inline code spans blanked.
fn prose_lines(text: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut prose = String::with_capacity(line.len());
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                prose.push(c);
            }
        }
        lines.push(prose);
    }
    lines
}

/// Every link target of a markdown text: inline `[text](target)` and `![alt](target)`
/// links, and reference definitions `[name]: target`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            targets.push(target.trim_matches(['<', '>']).to_owned());
            rest = &after[end..];
        }
        let trimmed = line.trim_start();
        if let Some(close) = trimmed.strip_prefix('[').and_then(|l| l.find("]:")) {
            if let Some(target) = trimmed[close + 3..].split_whitespace().next() {
                targets.push(target.to_owned());
            }
        }
    }
    targets
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// The anchor GitHub gives a heading: lowercase, spaces to hyphens, punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every heading anchor of a markdown text, with `-1`, `-2`... for repeated headings.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if in_fence || !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(&line[hashes..].replace('`', ""));
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.push(match *count {
            0 => base,
            n => format!("{base}-{n}"),
        });
        *count += 1;
    }
    anchors
}

/// `page`'s directory joined with `target`, `..` resolved, relative to the repo root;
/// `None` when it climbs out of the repository.
fn resolve(page: &str, target: &str) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    let base = Path::new(page).parent().unwrap_or(Path::new(""));
    for component in base.join(target).components() {
        match component {
            // Climbing above the root is no file of the repository.
            Component::ParentDir => path.pop().then_some(())?,
            Component::Normal(part) => path.push(part),
            _ => {}
        }
    }
    Some(path)
}

/// What is wrong with every relative link of the documentation, one line each.
fn broken_links() -> Vec<String> {
    let mut broken = Vec::new();
    for page in documentation() {
        let text = repo_file(&page);
        for target in link_targets(&text) {
            if target.is_empty() || is_external(&target) {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                Some(PathBuf::from(&page))
            } else {
                resolve(&page, path)
            };
            let Some(file) = file.filter(|f| repo_root().join(f).exists()) else {
                broken.push(format!("{page}: {target}: no such file in the repository"));
                continue;
            };
            let Some(anchor) = anchor.filter(|a| !a.is_empty()) else {
                continue;
            };
            if file.extension().and_then(|e| e.to_str()) != Some("md") {
                continue;
            }
            let linked = std::fs::read_to_string(repo_root().join(&file)).unwrap_or_default();
            if !anchors(&linked).iter().any(|a| a == anchor) {
                broken.push(format!(
                    "{page}: {target}: {} has no heading with the anchor #{anchor}",
                    file.display()
                ));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_documentation_points_to_a_file_that_exists() {
    // GIVEN README.md, CONTRIBUTING.md and every page under docs/
    // WHEN each relative link is resolved from its page's directory
    let broken = broken_links();
    // THEN each names a file of the repository, and a heading of it when it has an anchor
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_checker_finds_links_and_headings_as_github_renders_them() {
    // GIVEN a page with links in prose, in code, and headings with punctuation
    let text = "See [a](docs/api.md#the-webhook), ![shot](screenshots/x.png) and\n\
                `[not](a-link.md)`; [site](https://example.com).\n\
                ```\n[fenced](nope.md)\n```\n\
                [ref]: ../CONTRIBUTING.md\n\
                ## `webhooks serve`\n## What it sets up, as a review reads it\n## Notes\n## Notes\n";
    // WHEN its links and anchors are read
    let targets = link_targets(text);
    let found = anchors(text);
    // THEN only the real links are found, and anchors follow GitHub's slugs
    assert_eq!(
        targets,
        [
            "docs/api.md#the-webhook",
            "screenshots/x.png",
            "https://example.com",
            "../CONTRIBUTING.md"
        ]
    );
    assert_eq!(
        found,
        [
            "webhooks-serve",
            "what-it-sets-up-as-a-review-reads-it",
            "notes",
            "notes-1"
        ]
    );
    assert_eq!(
        resolve("docs/api.md", "../console/README.md"),
        Some(PathBuf::from("console/README.md"))
    );
    assert_eq!(resolve("README.md", "../outside.md"), None);
}
