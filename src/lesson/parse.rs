//! One lesson file, from bytes to a validated [`Lesson`] or every problem with its place. The one
//! place lesson YAML is parsed at run time (build.rs converts the shipped files to JSON).
//!
//! Two paths, both ending in the same validation:
//!
//! - **careful** ([`parse_lesson`]), for every file: size limit → UTF-8 → YAML (yaml_serde, which
//!   bounds nesting depth and alias expansion) → refuse anchors and control characters → typed
//!   fields one by one, each list element on its own so that one bad quiz item does not hide the
//!   next → semantic checks.
//! - **build-time JSON** ([`from_build_time_json`]), for the embedded lessons at start-up: the
//!   same lesson converted to JSON by build.rs, read in one serde pass (several times faster than
//!   YAML; `cargo bench --bench lessons` has the figures). Any problem at all, or a sign that the
//!   YAML holds something the JSON would hide (an anchor, an escape), and the careful path takes
//!   over, so this only makes clean files cheaper; it never changes what is reported.

use saphyr_parser::{Event, Parser};
use serde::de::DeserializeOwned;
use yaml_serde::Value;

use super::file::Fields;
use super::spans::{LazySpans, Position};
use super::validate::{DemoCatalog, Problem, ProblemKind, Reporter, check_lesson};
use super::{Lesson, LessonFile};

/// Lesson files larger than this are refused unread: the biggest shipped lesson is ~25 KB, so
/// 1 MiB leaves room for long lessons while keeping a hostile 50 MB file from being buffered.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The lesson schema never needs more than 6 levels; anything past this is refused before the
/// YAML is deserialized (see [`too_deep`]).
pub const MAX_DEPTH: usize = 16;

/// One file's result: the lesson with where its id and number stand, or every problem found.
pub type Parsed = Result<(Lesson, [Position; 2]), Vec<Problem>>;

/// Where a lesson's id and number stand, for problems found across files (duplicates).
fn places(spans: &LazySpans<'_>) -> [Position; 2] {
    [spans.top_level("id"), spans.top_level("number")]
}

/// Parse and validate one lesson file: the careful path. `Err` carries every problem found.
pub fn parse_lesson(file: &str, bytes: &[u8], catalog: &(dyn DemoCatalog + Sync)) -> Parsed {
    let top = Position { line: 1, col: 1 };
    let whole = |kind, msg: String| vec![Problem::at(file, top, "", kind, msg)];
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(whole(
            ProblemKind::TooLarge,
            format!(
                "the file is larger than {} KiB; lesson files are limited to that size",
                MAX_FILE_BYTES / 1024
            ),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let pos = position_of_byte(bytes, err.valid_up_to());
            return Err(vec![Problem::at(
                file,
                pos,
                "",
                ProblemKind::NotUtf8,
                format!(
                    "not valid UTF-8 (byte 0x{:02x} at offset {}); save the file as UTF-8",
                    bytes[err.valid_up_to()],
                    err.valid_up_to()
                ),
            )]);
        }
    };
    parse_carefully(file, text, catalog)
}

/// Field by field and element by element, so every problem is found and placed.
fn parse_carefully(file: &str, text: &str, catalog: &(dyn DemoCatalog + Sync)) -> Parsed {
    if let Some(pos) = too_deep(text) {
        return Err(vec![Problem::at(
            file,
            pos,
            "",
            ProblemKind::TooDeep,
            format!(
                "nested more than {MAX_DEPTH} levels deep here; lessons allow at most {MAX_DEPTH}"
            ),
        )]);
    }
    let value: Value = match yaml_serde::from_str(text) {
        Ok(v) => v,
        Err(err) => return Err(vec![yaml_problem(file, text, &err)]),
    };
    let spans = LazySpans::new(text);
    let mut r = Reporter {
        file,
        spans: &spans,
        problems: Vec::new(),
    };
    if let Some(pos) = spans.first_alias() {
        r.problems.push(Problem::at(
            file,
            pos,
            "",
            ProblemKind::AliasNotAllowed,
            "YAML anchors and aliases are not allowed in lessons; write the text out",
        ));
        return Err(r.problems);
    }
    check_text(&value, "", &mut r);
    let Value::Mapping(map) = value else {
        r.value(
            "",
            ProblemKind::WrongType,
            "a lesson file must be a mapping of fields (id: …, title: …)",
        );
        return Err(r.problems);
    };
    let mut fields = Fields::new(map, r);
    let draft = LessonFile::read(&mut fields).filled(file);
    let mut r = fields.finish();
    match check_lesson(draft, &mut r, catalog) {
        Some(lesson) => Ok((lesson, places(&spans))),
        None => Err(r.problems),
    }
}

/// An embedded lesson from the JSON build.rs converted it to, when that gives a clean lesson;
/// `None` sends it down the careful path. `yaml` is the file's text: the JSON cannot show an
/// anchor or an escape the YAML had, so those are looked for there.
pub fn from_build_time_json(
    file: &str,
    yaml: &str,
    json: &str,
    catalog: &(dyn DemoCatalog + Sync),
) -> Option<(Lesson, [Position; 2])> {
    let spans = LazySpans::new(yaml);
    if json.is_empty() || might_decode_to_control(yaml) || spans.first_alias().is_some() {
        return None;
    }
    let draft = serde_json::from_str::<LessonFile>(json)
        .ok()?
        .complete(file)?;
    let mut r = Reporter {
        file,
        spans: &spans,
        problems: Vec::new(),
    };
    check_lesson(draft, &mut r, catalog).map(|lesson| (lesson, places(&spans)))
}

/// Could a parsed string of `text` hold a forbidden character? Raw ones are visible in the text;
/// YAML escapes (`\e`, `\x1b`, `\u202e`, ...) are only decoded in double-quoted scalars, but any
/// backslash escape other than an ordinary `\n`/`\t`/quote is treated as suspect here.
fn might_decode_to_control(text: &str) -> bool {
    if text
        .chars()
        .any(|c| crate::text::is_forbidden(c) && c != '\r')
    {
        return true;
    }
    text.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'\\' && !matches!(w[1], b'n' | b't' | b'"' | b'\\' | b'\'' | b' '))
}

/// Decode one value, reporting a failure at the exact path serde stopped at.
pub(crate) fn decode<T: DeserializeOwned>(
    value: Value,
    base: &str,
    r: &mut Reporter<'_>,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(err) => {
            let mut path = base.to_owned();
            for segment in err.path().iter() {
                use serde_path_to_error::Segment;
                match segment {
                    Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                    Segment::Map { key } => {
                        path.push('.');
                        path.push_str(key);
                    }
                    Segment::Enum { .. } | Segment::Unknown => {}
                }
            }
            let message = err.inner().to_string();
            let (kind, message) = classify(&path, message);
            if kind == ProblemKind::UnknownField {
                r.key(&path, kind, message);
            } else {
                r.value(&path, kind, message);
            }
            None
        }
    }
}

/// Name the kind of a serde error, and say language errors in our own words.
fn classify(path: &str, message: String) -> (ProblemKind, String) {
    if path.ends_with("language") && message.starts_with("unknown variant") {
        let lang = message.split('`').nth(1).unwrap_or("?");
        return (
            ProblemKind::UnsupportedLanguage,
            format!(
                "unsupported language `{lang}` (supported: {})",
                super::Language::NAMES.join(", ")
            ),
        );
    }
    let kind = if message.starts_with("unknown field") {
        ProblemKind::UnknownField
    } else if message.starts_with("missing field") {
        ProblemKind::MissingField
    } else {
        ProblemKind::WrongType
    };
    (kind, message)
}

pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn yaml_problem(file: &str, text: &str, err: &yaml_serde::Error) -> Problem {
    let pos = reader_position(text, &err.to_string())
        .or_else(|| {
            err.location().map(|l| Position {
                line: l.line(),
                col: l.column(),
            })
        })
        .unwrap_or(Position { line: 1, col: 1 });
    let text = err.to_string();
    // yaml_serde appends " at line L column C"; the position is already in front.
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    let kind = if text.contains("recursion limit") || text.contains("repetition limit") {
        ProblemKind::TooDeep
    } else {
        ProblemKind::Syntax
    };
    let message = match kind {
        ProblemKind::TooDeep => format!("{text}: the document nests or repeats too much"),
        _ => format!("YAML syntax: {text}"),
    };
    Problem::at(file, pos, "", kind, message)
}

/// libyaml's reader errors ("control characters are not allowed at position 101") carry a byte
/// offset instead of a location.
fn reader_position(text: &str, message: &str) -> Option<Position> {
    let offset: usize = message
        .split("at position ")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    (offset <= text.len()).then(|| position_of_byte(text.as_bytes(), offset))
}

/// Where the first node nested deeper than [`MAX_DEPTH`] starts (the top-level mapping is depth
/// 0), found by walking parser events and stopping right there. It runs before yaml_serde because
/// libyaml scans a whole flow collection before the deserializer's own recursion limit applies,
/// and that scan is quadratic in the nesting: 10,000 levels of `[` took half a second to refuse.
/// A syntax error ends the walk; yaml_serde then reports it with its place.
fn too_deep(text: &str) -> Option<Position> {
    let mut open = 0usize;
    for item in Parser::new_from_str(text) {
        let (event, span) = match item {
            Ok(found) => found,
            // The scanner has a flow-nesting limit of its own (255 levels), reached long before
            // anything slow happens; any other error is yaml_serde's to report.
            Err(e) if e.info() == "recursion limit exceeded" => {
                return Some(Position {
                    line: e.marker().line(),
                    col: e.marker().col() + 1,
                });
            }
            Err(_) => return None,
        };
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(_)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        );
        // A node's depth is the number of collections open around it: the fields of the
        // top-level mapping are at depth 1.
        if starts_node && open > MAX_DEPTH {
            return Some(Position {
                line: span.start.line(),
                col: span.start.col() + 1,
            });
        }
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => open += 1,
            Event::MappingEnd | Event::SequenceEnd => open = open.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Text in a lesson reaches a terminal: refuse escape sequences and other invisible controls
/// (including those written as `"\e"` escapes, which YAML decodes).
fn check_text(value: &Value, path: &str, r: &mut Reporter<'_>) {
    match value {
        Value::String(s) => {
            if let Some((offset, c)) = s
                .char_indices()
                .find(|&(_, c)| crate::text::is_forbidden(c))
            {
                let line = s[..offset].matches('\n').count() + 1;
                r.value(
                    path,
                    ProblemKind::ControlCharacter,
                    format!(
                        "contains the control character U+{:04X} (text line {line}); lesson text \
                         may not carry escape sequences or other invisible controls",
                        c as u32
                    ),
                );
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                check_text(v, &format!("{path}[{i}]"), r);
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map {
                let key = k.as_str().unwrap_or("?");
                let p = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                check_text(k, &p, r);
                check_text(v, &p, r);
            }
        }
        Value::Tagged(t) => check_text(&t.value, path, r),
        _ => {}
    }
}

fn position_of_byte(bytes: &[u8], offset: usize) -> Position {
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // Columns count characters; the prefix of the line is valid UTF-8 up to `offset`.
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Position { line, col }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_time_json_gives_every_shipped_lesson_as_the_careful_path_does() {
        for (name, bytes, json) in super::super::load::embedded_files() {
            let text = std::str::from_utf8(bytes).expect("utf-8");
            let registry = &crate::demo::Registry;
            let from_json = from_build_time_json(name, text, json, registry)
                .unwrap_or_else(|| panic!("{name}'s build-time JSON did not give the lesson"));
            let careful = parse_carefully(name, text, registry).expect("valid");
            assert_eq!(from_json, careful, "{name}: JSON and YAML disagree");
        }
    }

    #[test]
    fn suspicious_escapes_keep_a_file_off_the_json_path() {
        assert!(might_decode_to_control("a: \"\\e[31m\"\n"));
        assert!(might_decode_to_control("a: \"\\x1b\"\n"));
        assert!(might_decode_to_control("a: \"\\u202e\"\n"));
        assert!(might_decode_to_control("a: x\u{202e}y\n"));
        assert!(!might_decode_to_control("a: \"line\\nnext\\ttab\"\n"));
    }
}
