//! Nothing in the repository points at a document outside it: a comment or page that says "see
//! design.md" or "the stack notes" sends a reader of this repository to a file they do not have.
//! Scanned: src/, tests/, twins/, docs/, README.md and lessons/README.md.

use std::path::{Path, PathBuf};

/// Names of documents that lived beside the repository while it was written, never in it.
const OUTSIDE: &[&str] = &["design.md", "design notes", "stack-notes", "../shared"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `file:line: "needle"` for each line of `text` that names an outside document. A Markdown
/// heading names a section of its own page (README's "Design notes"), not another document.
fn references(file: &str, text: &str) -> Vec<String> {
    let markdown = file.ends_with(".md");
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if markdown && line.starts_with('#') {
            continue;
        }
        let lower = line.to_lowercase();
        for needle in OUTSIDE {
            if lower.contains(needle) {
                found.push(format!("{file}:{}: {needle:?}: {}", i + 1, line.trim()));
            }
        }
    }
    found
}

fn text_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            text_files(&path, into);
        } else {
            into.push(path);
        }
    }
}

#[test]
fn nothing_points_at_a_document_outside_the_repository() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "twins", "docs"] {
        text_files(&root().join(dir), &mut files);
    }
    files.push(root().join("README.md"));
    files.push(root().join("lessons/README.md"));
    // This file names what it looks for.
    let itself = root().join(file!());
    let mut found = Vec::new();
    let mut scanned = 0;
    for path in files {
        if path == itself {
            continue;
        }
        // Binary files (none expected) and snapshots alike are read as text where they are text.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        scanned += 1;
        let name = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        found.extend(references(&name, &text));
    }
    assert!(scanned > 100, "only {scanned} files read: wrong root?");
    assert!(
        found.is_empty(),
        "references to documents outside the repository (say it here, or drop it):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_finds_each_outside_name_and_says_where() {
    let text = "// fine\n// See Design.md for why\n/// as the stack-notes say\nx = \"../shared/y\"\n\
                # the design notes\n";
    assert_eq!(
        references("src/x.rs", text),
        [
            "src/x.rs:2: \"design.md\": // See Design.md for why",
            "src/x.rs:3: \"stack-notes\": /// as the stack-notes say",
            "src/x.rs:4: \"../shared\": x = \"../shared/y\"",
            "src/x.rs:5: \"design notes\": # the design notes",
        ]
    );
    // In Markdown a heading is the page's own section.
    assert_eq!(
        references("README.md", "## Design notes\n"),
        Vec::<String>::new()
    );
    assert_eq!(references("README.md", "see the design notes\n").len(), 1);
}
