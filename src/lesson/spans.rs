//! Where each value of a lesson file stands, by field path (`quiz[2].answer`).
//!
//! serde gives no positions for values that are well-typed but wrong (an answer out of range), so a
//! second, event-level pass over the same text records the line and column of every node. It runs
//! only after the serde parse succeeded, so the document is known to be well-formed and bounded.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: usize,
    pub col: usize,
}

/// Field path → position of its value, and of its key where it is a mapping entry.
#[derive(Debug, Default)]
pub struct SpanIndex {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
    /// The first anchor or alias found: lessons refuse them (see lessons/README.md).
    pub first_alias: Option<Position>,
}

/// A span index built only when a position is first asked for: a clean lesson never needs one,
/// and building it costs about as much as parsing the file.
pub struct LazySpans<'t> {
    text: &'t str,
    index: std::cell::OnceCell<SpanIndex>,
}

impl<'t> LazySpans<'t> {
    pub fn new(text: &'t str) -> LazySpans<'t> {
        LazySpans {
            text,
            index: std::cell::OnceCell::new(),
        }
    }

    pub fn get(&self) -> &SpanIndex {
        self.index.get_or_init(|| SpanIndex::build(self.text))
    }

    /// Where the first anchor or alias stands, if any. A cheap scan rules most files out; only a
    /// file with something that looks like `&name` or `*name` after a separator is indexed.
    pub fn first_alias(&self) -> Option<Position> {
        if !might_have_anchor(self.text) {
            return None;
        }
        self.get().first_alias
    }

    /// The position of a top-level key's value in a block mapping (`id: …` at column 1), found
    /// without indexing the whole file.
    pub fn top_level(&self, key: &str) -> Position {
        for (i, line) in self.text.lines().enumerate() {
            let line_no = i + 1;
            if let Some(rest) = line.strip_prefix(key)
                && let Some(value) = rest.strip_prefix(':')
            {
                let col = key.len() + 2 + (value.len() - value.trim_start().len());
                return Position { line: line_no, col };
            }
        }
        Position { line: 1, col: 1 }
    }
}

/// Could `text` contain a YAML anchor or alias? Lessons are block YAML whose long texts are block
/// scalars (answers, code), where `&` and `*` are ordinary characters, so those are skipped; on the
/// other lines a `&` or `*` that starts a token, outside quotes, is enough to index the file and
/// look properly. A false positive costs an index build; a false negative would only let a
/// harmless alias through (the parser bounds alias expansion).
fn might_have_anchor(text: &str) -> bool {
    // Inside a block scalar: the indentation of the line that opened it.
    let mut block_parent: Option<usize> = None;
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if let Some(parent) = block_parent {
            if body.is_empty() || indent > parent {
                continue;
            }
            block_parent = None;
        }
        if body.starts_with('#') {
            continue;
        }
        if starts_a_token_with_marker(body) {
            return true;
        }
        if opens_block_scalar(body) {
            block_parent = Some(indent);
        }
    }
    false
}

/// A `&` or `*` at the start of a token (after a separator), outside quotes.
fn starts_a_token_with_marker(body: &str) -> bool {
    let b = body.as_bytes();
    let mut quote: Option<u8> = None;
    for i in 0..b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => {
                let at_token_start = i == 0 || matches!(b[i - 1], b' ' | b'[' | b'{' | b',');
                if at_token_start {
                    quote = Some(c);
                }
            }
            None if c == b'&' || c == b'*' => {
                let after_separator = i == 0 || matches!(b[i - 1], b' ' | b'[' | b'{' | b',');
                let followed = b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace());
                if after_separator && followed {
                    return true;
                }
            }
            None if c == b'#' && i > 0 && b[i - 1] == b' ' => return false,
            None => {}
        }
    }
    false
}

/// `key: |`, `- >-`, `|2`: the line opens a block scalar.
fn opens_block_scalar(body: &str) -> bool {
    let t = body.trim_end();
    let last = t.rsplit(' ').next().unwrap_or(t);
    let is_indicator = last.starts_with(['|', '>'])
        && last[1..]
            .chars()
            .all(|c| c == '-' || c == '+' || c.is_ascii_digit());
    is_indicator
        && (t.len() == last.len() || t[..t.len() - last.len()].trim_end().ends_with([':', '-']))
}

enum Frame {
    Mapping { path: String, key: Option<String> },
    Sequence { path: String, next: usize },
}

impl SpanIndex {
    /// Index `text`. Never fails: a scan error simply ends the index (serde already reported it).
    pub fn build(text: &str) -> SpanIndex {
        let mut index = SpanIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let pos = if has_properties(&event) {
                content_start(text, span.start)
            } else {
                Position {
                    line: span.start.line(),
                    col: span.start.col() + 1,
                }
            };
            match event {
                Event::Scalar(value, _, anchor, _) => {
                    index.note_anchor(anchor, pos);
                    if let Some(Frame::Mapping { path, key }) = stack.last_mut()
                        && key.is_none()
                    {
                        let key_path = join(path, &value);
                        index.keys.insert(key_path, pos);
                        *key = Some(value.into_owned());
                        continue;
                    }
                    if let Some(path) = index.value_path(&mut stack) {
                        index.values.insert(path, pos);
                    }
                }
                Event::Alias(_) => {
                    index.first_alias.get_or_insert(pos);
                    index.value_path(&mut stack);
                }
                Event::MappingStart(anchor, _) => {
                    index.note_anchor(anchor, pos);
                    let path = index.value_path(&mut stack).unwrap_or_default();
                    index.values.insert(path.clone(), pos);
                    stack.push(Frame::Mapping { path, key: None });
                }
                Event::SequenceStart(anchor, _) => {
                    index.note_anchor(anchor, pos);
                    let path = index.value_path(&mut stack).unwrap_or_default();
                    index.values.insert(path.clone(), pos);
                    stack.push(Frame::Sequence { path, next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        index
    }

    fn note_anchor(&mut self, anchor: usize, pos: Position) {
        // saphyr numbers anchors from 1; 0 means "no anchor".
        if anchor != 0 {
            self.first_alias.get_or_insert(pos);
        }
    }

    /// The path of the node that starts now, advancing the enclosing container.
    fn value_path(&self, stack: &mut [Frame]) -> Option<String> {
        match stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Mapping { path, key }) => key.take().map(|k| join(path, &k)),
            Some(Frame::Sequence { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
        }
    }

    /// The position of `path`'s value, or of the nearest enclosing node that has one.
    pub fn value(&self, path: &str) -> Position {
        let mut p = path;
        loop {
            if let Some(pos) = self.values.get(p) {
                return *pos;
            }
            match parent(p) {
                Some(up) => p = up,
                None => return Position { line: 1, col: 1 },
            }
        }
    }

    /// The position of `path`'s key (for unknown fields), falling back to its value.
    pub fn key(&self, path: &str) -> Position {
        self.keys
            .get(path)
            .copied()
            .unwrap_or_else(|| self.value(path))
    }
}

/// Does the node carry an anchor or a tag? saphyr-parser 0.3 starts such a node's span at its
/// properties; problems are reported where its content starts, as they always were.
fn has_properties(event: &Event<'_>) -> bool {
    match event {
        Event::Scalar(_, _, anchor, tag) => *anchor != 0 || tag.is_some(),
        Event::MappingStart(anchor, tag) | Event::SequenceStart(anchor, tag) => {
            *anchor != 0 || tag.is_some()
        }
        _ => false,
    }
}

/// Where the content of a node starts, from the start of its properties: past anchors, tags,
/// spaces, line breaks and comments; for a block scalar (`|`, `>`), the first character of its
/// first non-blank line.
fn content_start(text: &str, start: Marker) -> Position {
    let fallback = Position {
        line: start.line(),
        col: start.col() + 1,
    };
    // Markers count characters, not bytes.
    let Some((offset, _)) = text.char_indices().nth(start.index()) else {
        return fallback;
    };
    let mut chars = text[offset..].chars().peekable();
    let (mut line, mut col) = (start.line(), start.col());
    loop {
        match chars.peek().copied() {
            Some('\n') => {
                chars.next();
                line += 1;
                col = 0;
            }
            Some(' ' | '\t' | '\r') => {
                chars.next();
                col += 1;
            }
            Some('#') => while chars.next_if(|&c| c != '\n').is_some() {},
            Some('&' | '!') => {
                while chars.next_if(|c| !c.is_whitespace()).is_some() {
                    col += 1;
                }
            }
            Some('|' | '>') => {
                while chars.next_if(|&c| c != '\n').is_some() {}
                let mut content = Position { line, col: 1 };
                for c in chars {
                    match c {
                        '\n' => {
                            content = Position {
                                line: content.line + 1,
                                col: 1,
                            }
                        }
                        ' ' if content.line > line => content.col += 1,
                        _ if content.line > line => return content,
                        _ => {}
                    }
                }
                return content;
            }
            _ => return Position { line, col: col + 1 },
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `quiz[2].answer` → `quiz[2]` → `quiz` → ``.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "title: x\nquiz:\n  - id: a\n    answer: 4\n  - id: b\n    options: [p, q]\n";

    #[test]
    fn positions_follow_paths() {
        let idx = SpanIndex::build(DOC);
        assert_eq!(idx.value("title"), Position { line: 1, col: 8 });
        assert_eq!(idx.value("quiz[0].answer"), Position { line: 4, col: 13 });
        assert_eq!(idx.key("quiz[0].answer"), Position { line: 4, col: 5 });
        assert_eq!(
            idx.value("quiz[1].options[1]"),
            Position { line: 6, col: 18 }
        );
        assert_eq!(idx.value("quiz[1]"), Position { line: 5, col: 5 });
    }

    #[test]
    fn missing_paths_fall_back_to_the_nearest_parent() {
        let idx = SpanIndex::build(DOC);
        assert_eq!(idx.value("quiz[1].nope.deeper"), idx.value("quiz[1]"));
        assert_eq!(idx.value("nothing"), Position { line: 1, col: 1 });
    }

    #[test]
    fn anchor_sniffing_skips_block_scalars_and_quotes_but_not_nodes() {
        assert!(!might_have_anchor(
            "answer: |\n  a *b* and &c\n  - *x\ntitle: plain\n"
        ));
        assert!(!might_have_anchor("prompt: \"use &mut self\"\n"));
        assert!(!might_have_anchor("title: Tasks & futures\n"));
        assert!(might_have_anchor("params: &p { a: 1 }\n"));
        assert!(might_have_anchor("params: *p\n"));
        assert!(might_have_anchor("a: |\n  text\nb: [*x]\n"));
        assert!(might_have_anchor("&top\nkey: 1\n"));
        // Every shipped lesson is clean, and most need no index at all.
        let clean = crate::lesson::load::embedded_files()
            .iter()
            .filter(|(_, bytes, _)| {
                !might_have_anchor(std::str::from_utf8(bytes).unwrap_or_default())
            })
            .count();
        assert!(clean >= 15, "only {clean} shipped lessons skip the index");
    }

    #[test]
    fn anchored_and_tagged_nodes_are_placed_where_their_content_starts() {
        let doc = "a: &x 1\nb: !t [1]\nc: &m\n  k: v\nd: &s # note\n  - 1\ne: &b |\n\n  text\n";
        let idx = SpanIndex::build(doc);
        assert_eq!(idx.value("a"), Position { line: 1, col: 7 });
        assert_eq!(idx.value("b"), Position { line: 2, col: 7 });
        assert_eq!(idx.value("c"), Position { line: 4, col: 3 });
        assert_eq!(idx.value("d"), Position { line: 6, col: 3 });
        assert_eq!(idx.value("e"), Position { line: 9, col: 3 });
    }

    #[test]
    fn anchors_and_aliases_are_noticed() {
        let idx = SpanIndex::build("a: &x 1\nb: *x\n");
        assert_eq!(idx.first_alias, Some(Position { line: 1, col: 7 }));
        assert_eq!(SpanIndex::build(DOC).first_alias, None);
    }
}
