//! The one place lesson files are parsed.
//!
//! The pipeline for a file: size limit → UTF-8 → YAML (yaml_serde, which bounds nesting depth and
//! alias expansion) → refuse anchors and control characters → typed fields, each element on its
//! own so that one bad quiz item does not hide the next → semantic checks. A file with any problem
//! is left out; the rest still load.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use thiserror::Error;
use yaml_serde::{Mapping, Value};

use super::spans::{LazySpans, Position};
use super::validate::{DemoCatalog, Problem, ProblemKind, Reporter, check_lesson, check_set};
use super::{
    BugHunt, DemoRef, Lesson, LessonId, LessonKind, MappingRow, QuizItem, Section, Snippet,
};

/// Lesson files larger than this are refused unread: the biggest shipped lesson is ~25 KB, so
/// 1 MiB leaves room for long lessons while keeping a hostile 50 MB file from being buffered.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// yaml_serde refuses nesting deeper than 128 levels on its own; the lesson schema never needs
/// more than 6, so anything past this is reported instead of walked.
pub const MAX_DEPTH: usize = 16;

/// The shipped lessons, embedded at build time (see build.rs) so the binary works from anywhere.
/// Name, YAML, and the same lesson as JSON converted at build time (empty if it did not convert).
const EMBEDDED: &[(&str, &[u8], &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_lessons.rs"));

/// The embedded lesson files: name, YAML bytes, and the JSON converted at build time.
pub fn embedded_files() -> &'static [(&'static str, &'static [u8], &'static str)] {
    EMBEDDED
}

/// One file's result: the lesson with where its id and number stand, or every problem found.
pub type Parsed = Result<(Lesson, [Position; 2]), Vec<Problem>>;

/// Loading a directory failed as a whole (as opposed to problems inside files).
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read lesson directory {path}: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has no lesson files (*.yaml)")]
    Empty { path: PathBuf },
}

/// The lessons that loaded, in guide order, and every problem found in the others.
#[derive(Debug, Default)]
pub struct LessonSet {
    pub lessons: Vec<Lesson>,
    pub problems: Vec<Problem>,
    /// How many files were read.
    pub files: usize,
}

impl LessonSet {
    /// The lesson a user named by id or number (`q05-…`, `5`, `q5`, `c1`).
    pub fn find(&self, query: &str) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.is_named_by(query))
    }

    pub fn get(&self, id: &LessonId) -> Option<&Lesson> {
        self.lessons.iter().find(|l| &l.id == id)
    }

    fn from_parsed(results: Vec<Parsed>) -> LessonSet {
        let files = results.len();
        let mut lessons = Vec::new();
        let mut places = Vec::new();
        let mut problems = Vec::new();
        for result in results {
            match result {
                Ok((lesson, pos)) => {
                    lessons.push(lesson);
                    places.push(pos);
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        let rejected = check_set(&lessons, &places, &mut problems);
        let mut kept: Vec<Lesson> = lessons
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !rejected.contains(i))
            .map(|(_, l)| l)
            .collect();
        kept.sort_by_key(|l| l.guide_order());
        problems.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        LessonSet {
            lessons: kept,
            problems,
            files,
        }
    }
}

/// The lessons built into the binary.
pub fn load_embedded(catalog: &(dyn DemoCatalog + Sync)) -> LessonSet {
    let results = on_two_threads(EMBEDDED, |&(name, yaml, json)| {
        parse_embedded(name, yaml, json, catalog)
    });
    LessonSet::from_parsed(results)
}

/// An embedded lesson: from its build-time JSON when that gives a clean lesson, else the YAML.
fn parse_embedded(
    name: &str,
    yaml: &[u8],
    json: &str,
    catalog: &(dyn DemoCatalog + Sync),
) -> Parsed {
    if !json.is_empty()
        && let Ok(text) = std::str::from_utf8(yaml)
        && let Some(lesson) = fast_path(name, text, catalog, || serde_json::from_str(json).ok())
    {
        return Ok(lesson);
    }
    parse_lesson(name, yaml, catalog)
}

/// Parse files on two threads: parsing dominates start-up, and files are independent. Results
/// keep the files' order.
fn on_two_threads<T: Sync>(files: &[T], parse: impl Fn(&T) -> Parsed + Sync) -> Vec<Parsed> {
    let run = |chunk: &[T]| -> Vec<Parsed> { chunk.iter().map(&parse).collect() };
    if files.len() < 4 {
        return run(files);
    }
    let (first, second) = files.split_at(files.len() / 2);
    std::thread::scope(|s| {
        let other = std::thread::Builder::new()
            .name("lesson-loader".into())
            .spawn_scoped(s, || run(second));
        let mut out = run(first);
        match other.map(|h| h.join()) {
            Ok(Ok(mut rest)) => out.append(&mut rest),
            // No second thread (or it failed): parse the rest here.
            _ => out.extend(run(second)),
        }
        out
    })
}

/// Every `*.yaml`/`*.yml` file in `dir` (not recursive), in file-name order.
pub fn load_dir(dir: &Path, catalog: &(dyn DemoCatalog + Sync)) -> Result<LessonSet, LoadError> {
    let dir_err = |source| LoadError::Dir {
        path: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(dir_err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    if paths.is_empty() {
        return Err(LoadError::Empty {
            path: dir.to_owned(),
        });
    }
    paths.sort();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut unreadable = Vec::new();
    for path in &paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        match read_bounded(path) {
            Ok(bytes) => files.push((name, bytes)),
            Err(err) => unreadable.push(Err(vec![Problem::at(
                &name,
                Position { line: 1, col: 1 },
                "",
                ProblemKind::Unreadable,
                format!("cannot read the file: {err}"),
            )])),
        }
    }
    let mut results = on_two_threads(&files, |(name, bytes)| parse_lesson(name, bytes, catalog));
    results.append(&mut unreadable);
    Ok(LessonSet::from_parsed(results))
}

/// Reads at most one byte past the limit, so the size check never buffers a huge file.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Parse and validate one lesson file. `Err` carries every problem found.
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
    match fast_path(file, text, catalog, || yaml_serde::from_str(text).ok()) {
        Some(lesson) => Ok(lesson),
        None => parse_carefully(file, text, catalog),
    }
}

/// Field by field and element by element, so every problem is found and placed.
fn parse_carefully(file: &str, text: &str, catalog: &(dyn DemoCatalog + Sync)) -> Parsed {
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
    if let Err((path, depth)) = check_depth(&value, String::new(), 0) {
        r.value(
            &path,
            ProblemKind::TooDeep,
            format!("nested {depth} levels deep; lessons allow at most {MAX_DEPTH}"),
        );
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
    let mut fields = Fields {
        map,
        r,
        taken: HashSet::new(),
    };
    let format_version: Option<u32> = fields.required("format_version");
    let id: Option<String> = fields.required("id");
    let kind: Option<LessonKind> = fields.required("kind");
    let number: Option<u32> = fields.required("number");
    let section: Option<Section> = fields.required("section");
    let title: Option<String> = fields.required("title");
    let question: Option<String> = fields.required("question");
    let answer: Option<String> = fields.required("answer");
    let key_points: Vec<String> = fields.list("key_points", true);
    let code: Vec<Snippet> = fields.list("code", true);
    let mapping: Vec<MappingRow> = fields.list("mapping", true);
    let demos: Vec<DemoRef> = fields.list("demos", false);
    let spot_the_bug: Vec<BugHunt> = fields.list("spot_the_bug", true);
    let quiz: Vec<QuizItem> = fields.list("quiz", true);
    let mut r = fields.finish();

    // Missing fields were reported above; fill them in so the semantic checks still run and the
    // author sees every problem at once. The reporter keeps one problem per path.
    let format_version = format_version.unwrap_or(super::FORMAT_VERSION);
    let lesson = Lesson {
        id: LessonId(id.unwrap_or_default()),
        file: file.to_owned(),
        kind: kind.unwrap_or(LessonKind::Question),
        number: number.unwrap_or(1),
        section: section.unwrap_or(Section::CoreConcepts),
        title: title.unwrap_or_default(),
        question: question.unwrap_or_default(),
        answer: answer.unwrap_or_default(),
        key_points,
        code,
        mapping,
        demos,
        spot_the_bug,
        quiz,
    };
    check_lesson(&lesson, format_version, &mut r, catalog);
    if r.problems.is_empty() {
        Ok((lesson, [spans.top_level("id"), spans.top_level("number")]))
    } else {
        Err(r.problems)
    }
}

/// The whole file in one typed parse, for a file that is almost certainly clean: no anchor-like
/// token, nothing that could decode to a control character. Any problem at all returns `None`,
/// and the careful path (field by field, every problem with its place) takes over; so this only
/// makes clean files cheaper, it never changes what is reported.
/// Every field of a lesson file, for the one-parse fast path.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    format_version: u32,
    id: String,
    kind: LessonKind,
    number: u32,
    section: Section,
    title: String,
    question: String,
    answer: String,
    key_points: Vec<String>,
    code: Vec<Snippet>,
    mapping: Vec<MappingRow>,
    #[serde(default)]
    demos: Vec<DemoRef>,
    spot_the_bug: Vec<BugHunt>,
    quiz: Vec<QuizItem>,
}

fn fast_path(
    file: &str,
    text: &str,
    catalog: &(dyn DemoCatalog + Sync),
    parse: impl FnOnce() -> Option<LessonFile>,
) -> Option<(Lesson, [Position; 2])> {
    let spans = LazySpans::new(text);
    if might_decode_to_control(text) || spans.first_alias().is_some() {
        return None;
    }
    let f = parse()?;
    let lesson = Lesson {
        id: LessonId(f.id),
        file: file.to_owned(),
        kind: f.kind,
        number: f.number,
        section: f.section,
        title: f.title,
        question: f.question,
        answer: f.answer,
        key_points: f.key_points,
        code: f.code,
        mapping: f.mapping,
        demos: f.demos,
        spot_the_bug: f.spot_the_bug,
        quiz: f.quiz,
    };
    let mut r = Reporter {
        file,
        spans: &spans,
        problems: Vec::new(),
    };
    check_lesson(&lesson, f.format_version, &mut r, catalog);
    r.problems
        .is_empty()
        .then(|| (lesson, [spans.top_level("id"), spans.top_level("number")]))
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

/// Takes the top-level fields one by one, so each problem is reported at its own path.
struct Fields<'a> {
    map: Mapping,
    r: Reporter<'a>,
    taken: HashSet<&'static str>,
}

impl<'a> Fields<'a> {
    fn take(&mut self, key: &'static str) -> Option<Value> {
        self.taken.insert(key);
        self.map.remove(key)
    }

    fn required<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        match self.take(key) {
            None => {
                self.r.missing(key);
                None
            }
            Some(v) => decode(v, key, &mut self.r),
        }
    }

    /// A list whose elements are decoded one by one; bad elements are reported and skipped.
    fn list<T: DeserializeOwned>(&mut self, key: &'static str, required: bool) -> Vec<T> {
        match self.take(key) {
            None if required => {
                self.r.missing(key);
                Vec::new()
            }
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(items)) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| decode(item, &format!("{key}[{i}]"), &mut self.r))
                .collect(),
            Some(other) => {
                self.r.value(
                    key,
                    ProblemKind::WrongType,
                    format!("expected a list, found {}", describe(&other)),
                );
                Vec::new()
            }
        }
    }

    /// Report whatever fields were not taken: they are unknown.
    fn finish(mut self) -> Reporter<'a> {
        for (key, _) in std::mem::take(&mut self.map) {
            let name = match &key {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            let mut known: Vec<&str> = self.taken.iter().copied().collect();
            known.sort_unstable();
            self.r.key(
                &name,
                ProblemKind::UnknownField,
                format!(
                    "unknown field `{name}`, expected one of: {}",
                    known.join(", ")
                ),
            );
        }
        self.r
    }
}

/// Decode one value, reporting a failure at the exact path serde stopped at.
fn decode<T: DeserializeOwned>(value: Value, base: &str, r: &mut Reporter<'_>) -> Option<T> {
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

fn describe(v: &Value) -> &'static str {
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

fn check_depth(value: &Value, path: String, depth: usize) -> Result<(), (String, usize)> {
    if depth > MAX_DEPTH {
        return Err((path, depth));
    }
    match value {
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_depth(v, format!("{path}[{i}]"), depth + 1)),
        Value::Mapping(map) => map.iter().try_for_each(|(k, v)| {
            let key = k.as_str().unwrap_or("?");
            let p = if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            };
            check_depth(v, p, depth + 1)
        }),
        Value::Tagged(t) => check_depth(&t.value, path, depth + 1),
        _ => Ok(()),
    }
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
    fn the_fast_path_takes_every_shipped_lesson_and_agrees_with_the_careful_one() {
        for (name, bytes, json) in EMBEDDED {
            let text = std::str::from_utf8(bytes).expect("utf-8");
            let registry = &crate::demo::Registry;
            let fast = fast_path(name, text, registry, || yaml_serde::from_str(text).ok())
                .unwrap_or_else(|| panic!("{name} took the careful path"));
            let from_json = fast_path(name, text, registry, || serde_json::from_str(json).ok())
                .unwrap_or_else(|| panic!("{name}'s build-time JSON did not give the lesson"));
            let careful = parse_carefully(name, text, registry).expect("valid");
            assert_eq!(fast, careful, "{name}");
            assert_eq!(from_json, careful, "{name}: JSON and YAML disagree");
        }
    }

    #[test]
    fn suspicious_escapes_send_a_file_down_the_careful_path() {
        assert!(might_decode_to_control("a: \"\\e[31m\"\n"));
        assert!(might_decode_to_control("a: \"\\x1b\"\n"));
        assert!(might_decode_to_control("a: \"\\u202e\"\n"));
        assert!(might_decode_to_control("a: x\u{202e}y\n"));
        assert!(!might_decode_to_control("a: \"line\\nnext\\ttab\"\n"));
    }
}
