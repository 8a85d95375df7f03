//! Every problem a lesson can have, found in one pass and reported with its place.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::file::Draft;
use super::quiz::check_quiz;
use super::run::{SnippetRole, check_run};
use super::spans::{LazySpans, Position};
use super::{FORMAT_VERSION, Lesson, LessonKind, ParamValue, Section};

/// What kind of problem: tests and callers match on this; the message says the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The file could not be read at all.
    Unreadable,
    TooLarge,
    NotUtf8,
    Syntax,
    /// Nested deeper than the loader allows, or an alias expansion too large.
    TooDeep,
    AliasNotAllowed,
    ControlCharacter,
    WrongType,
    UnknownField,
    MissingField,
    EmptyText,
    Duplicate,
    OutOfRange,
    UnknownDemo,
    UnknownVariant,
    BadParam,
    UnsupportedLanguage,
    UnsupportedVersion,
    /// A snippet's `run.harness` names no harness the tests have.
    UnknownHarness,
    /// A field that makes no sense for this kind of item, or an id that breaks the naming rule.
    Inconsistent,
}

/// One problem: `FILE:LINE:COL: field.path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// Field path inside the file (`quiz[2].answer`); empty for the whole file.
    pub path: String,
    pub kind: ProblemKind,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(file)"
        } else {
            &self.path
        };
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.col, path, self.message
        )
    }
}

impl Problem {
    pub fn at(
        file: &str,
        pos: Position,
        path: impl Into<String>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.to_owned(),
            line: pos.line,
            col: pos.col,
            path: path.into(),
            kind,
            message: message.into(),
        }
    }
}

/// Where a demo reference went wrong, relative to the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefProblem {
    UnknownDemo(String),
    /// Index into the reference's variants, and the message.
    UnknownVariant(usize, String),
    /// Parameter name, and the message.
    BadParam(String, String),
}

/// What lesson validation needs to know about demos: the demo registry implements it, tests use
/// small fixtures.
pub trait DemoCatalog {
    fn check_ref(
        &self,
        demo: &str,
        variants: &[String],
        params: &BTreeMap<String, ParamValue>,
    ) -> Vec<RefProblem>;

    /// Predictions are scored against a virtual-clock run: a message if `variant` (or the demo's
    /// first default variant) cannot run on that clock.
    fn check_predictable(&self, _demo: &str, _variant: Option<&str>) -> Option<String> {
        None
    }

    /// A prediction scored on asyncio runs the demo's twin: a message if the demo has none, or
    /// `variant` (or the first default) is not the same program there.
    fn check_asyncio(&self, _demo: &str, _variant: Option<&str>) -> Option<String> {
        None
    }
}

/// Collects problems for one file, placing each by its field path.
pub(crate) struct Reporter<'a> {
    pub file: &'a str,
    pub spans: &'a LazySpans<'a>,
    pub problems: Vec<Problem>,
}

impl Reporter<'_> {
    /// One problem per path: a missing field is not also reported as empty.
    fn push(&mut self, pos: Position, path: &str, kind: ProblemKind, message: String) {
        if !self.problems.iter().any(|p| p.path == path) {
            self.problems
                .push(Problem::at(self.file, pos, path, kind, message));
        }
    }

    pub fn value(&mut self, path: &str, kind: ProblemKind, message: impl Into<String>) {
        let pos = self.spans.get().value(path);
        self.push(pos, path, kind, message.into());
    }

    pub fn key(&mut self, path: &str, kind: ProblemKind, message: impl Into<String>) {
        let pos = self.spans.get().key(path);
        self.push(pos, path, kind, message.into());
    }

    /// A required top-level field is absent: reported at the top of the file, under its name.
    pub fn missing(&mut self, key: &str) {
        self.push(
            Position { line: 1, col: 1 },
            key,
            ProblemKind::MissingField,
            format!("missing field `{key}`"),
        );
    }

    /// Text that must say something.
    pub fn text(&mut self, path: &str, text: &str) {
        if text.trim().is_empty() {
            self.value(path, ProblemKind::EmptyText, "must not be empty");
        }
    }
}

/// The checks that need the whole, well-typed lesson. The lesson, its quiz items typed, when
/// there was no problem (in `r`, also those reported before).
pub(crate) fn check_lesson(
    draft: Draft,
    r: &mut Reporter<'_>,
    catalog: &(dyn DemoCatalog + Sync),
) -> Option<Lesson> {
    let Draft {
        mut lesson,
        format_version,
        quiz,
    } = draft;
    if format_version != FORMAT_VERSION {
        let msg = if format_version > FORMAT_VERSION {
            format!(
                "format version {format_version} is newer than this asyncdojo understands \
                 ({FORMAT_VERSION}); update asyncdojo"
            )
        } else {
            format!("format version {format_version} is not supported; use {FORMAT_VERSION}")
        };
        r.value("format_version", ProblemKind::UnsupportedVersion, msg);
    }
    check_id(&lesson, r);
    check_kind_fits_section(&lesson, r);
    if lesson.number == 0 {
        r.value("number", ProblemKind::OutOfRange, "numbers start at 1");
    }
    r.text("title", &lesson.title);
    r.text("question", &lesson.question);
    r.text("answer", &lesson.answer);
    if lesson.key_points.is_empty() {
        r.value(
            "key_points",
            ProblemKind::MissingField,
            "give at least one key point",
        );
    }
    for (i, point) in lesson.key_points.iter().enumerate() {
        r.text(&format!("key_points[{i}]"), point);
    }
    check_code(&lesson, r);
    for (i, row) in lesson.mapping.iter().enumerate() {
        r.text(&format!("mapping[{i}].asyncio"), &row.asyncio);
        r.text(&format!("mapping[{i}].tokio"), &row.tokio);
    }
    if lesson.mapping.is_empty() {
        r.value(
            "mapping",
            ProblemKind::MissingField,
            "give at least one asyncio ↔ tokio row",
        );
    }
    for (i, demo) in lesson.demos.iter().enumerate() {
        let base = format!("demos[{i}]");
        r.text(&format!("{base}.caption"), &demo.caption);
        report_ref(
            r,
            &base,
            "variants",
            catalog.check_ref(&demo.demo, &demo.variants, &demo.params),
        );
    }
    check_bug_hunts(&lesson, r, catalog);
    let quiz = check_quiz(&lesson, &quiz, r, catalog);
    if !r.problems.is_empty() {
        return None;
    }
    // Every item left out was reported, so with no problem every item is here.
    lesson.quiz = quiz.into_iter().collect::<Option<_>>()?;
    Some(lesson)
}

fn check_id(lesson: &Lesson, r: &mut Reporter<'_>) {
    let id = &lesson.id.0;
    let well_formed = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if !well_formed {
        r.value(
            "id",
            ProblemKind::Inconsistent,
            format!("`{id}` is not a valid id: use lowercase letters, digits and dashes"),
        );
        return;
    }
    let stem = r
        .file
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(r.file)
        .trim_end_matches(".yaml")
        .trim_end_matches(".yml");
    if stem != id {
        r.value(
            "id",
            ProblemKind::Inconsistent,
            format!("id `{id}` does not match the file name `{stem}`; rename one of them"),
        );
    }
}

/// Lessons beyond the guide, and only those, list under "Beyond the guide": a guide question
/// filed there would lose its place in the guide's order, and a `beyond` lesson filed under a
/// guide section would read as part of the guide.
fn check_kind_fits_section(lesson: &Lesson, r: &mut Reporter<'_>) {
    match (lesson.kind, lesson.section) {
        (LessonKind::Beyond, Section::Beyond) => {}
        (LessonKind::Beyond, _) => r.value(
            "section",
            ProblemKind::Inconsistent,
            "a lesson of kind `beyond` belongs in section `beyond`",
        ),
        (_, Section::Beyond) => r.value(
            "kind",
            ProblemKind::Inconsistent,
            "section `beyond` holds only lessons of kind `beyond`; \
             a guide question or challenge goes in the guide's own section",
        ),
        _ => {}
    }
}

fn check_code(lesson: &Lesson, r: &mut Reporter<'_>) {
    let mut seen = HashSet::new();
    for (i, snippet) in lesson.code.iter().enumerate() {
        r.text(&format!("code[{i}].source"), &snippet.source);
        if let Some(run) = &snippet.run {
            check_run(
                run,
                snippet.language,
                SnippetRole::Code,
                &format!("code[{i}]"),
                r,
            );
        }
        if !seen.insert(snippet.language) {
            r.value(
                &format!("code[{i}].language"),
                ProblemKind::Duplicate,
                format!(
                    "a second {} snippet; keep one per language",
                    snippet.language.name()
                ),
            );
        }
    }
    for needed in [super::Language::Python, super::Language::Rust] {
        if !seen.contains(&needed) {
            r.value(
                "code",
                ProblemKind::MissingField,
                format!("needs a {} snippet", needed.name()),
            );
        }
    }
}

fn check_bug_hunts(lesson: &Lesson, r: &mut Reporter<'_>, catalog: &dyn DemoCatalog) {
    if lesson.spot_the_bug.is_empty() {
        r.value(
            "spot_the_bug",
            ProblemKind::MissingField,
            "give at least one spot-the-bug exercise",
        );
    }
    let mut ids = HashMap::new();
    for (i, hunt) in lesson.spot_the_bug.iter().enumerate() {
        let base = format!("spot_the_bug[{i}]");
        if let Some(first) = ids.insert(hunt.id.as_str(), i) {
            r.value(
                &format!("{base}.id"),
                ProblemKind::Duplicate,
                format!("id `{}` is already used by spot_the_bug[{first}]", hunt.id),
            );
        }
        r.text(&format!("{base}.id"), &hunt.id);
        r.text(&format!("{base}.title"), &hunt.title);
        r.text(&format!("{base}.code"), &hunt.code);
        r.text(&format!("{base}.fix"), &hunt.fix);
        if hunt.bugs.is_empty() {
            r.value(
                &format!("{base}.bugs"),
                ProblemKind::MissingField,
                "list at least one bug",
            );
        }
        if let Some(evidence) = &hunt.evidence {
            check_evidence(evidence, &format!("{base}.evidence"), r, catalog);
        }
        if let Some(run) = &hunt.run {
            check_run(run, hunt.language, SnippetRole::SpotTheBug, &base, r);
        }
        let line_count = hunt.code.lines().count();
        for (j, bug) in hunt.bugs.iter().enumerate() {
            r.text(&format!("{base}.bugs[{j}].why"), &bug.why);
            if bug.lines.is_empty() {
                r.value(
                    &format!("{base}.bugs[{j}].lines"),
                    ProblemKind::MissingField,
                    "name at least one line",
                );
            }
            for (k, &line) in bug.lines.iter().enumerate() {
                if line == 0 || line as usize > line_count {
                    r.value(
                        &format!("{base}.bugs[{j}].lines[{k}]"),
                        ProblemKind::OutOfRange,
                        format!("line {line} is outside the snippet (lines 1-{line_count})"),
                    );
                }
            }
        }
    }
}

/// Evidence is checked like a `demos` reference: the demo, both variants and the parameters
/// must exist, and the two variants must differ.
fn check_evidence(
    evidence: &super::Evidence,
    base: &str,
    r: &mut Reporter<'_>,
    catalog: &dyn DemoCatalog,
) {
    r.text(&format!("{base}.caption"), &evidence.caption);
    let variants = [evidence.buggy.clone(), evidence.fixed.clone()];
    for problem in catalog.check_ref(&evidence.demo, &variants, &evidence.params) {
        match problem {
            RefProblem::UnknownVariant(i, msg) => {
                let field = if i == 0 { "buggy" } else { "fixed" };
                r.value(&format!("{base}.{field}"), ProblemKind::UnknownVariant, msg);
            }
            other => report_ref(r, base, "variants", vec![other]),
        }
    }
    if evidence.buggy == evidence.fixed {
        r.value(
            &format!("{base}.fixed"),
            ProblemKind::Inconsistent,
            format!(
                "`{}` is also the buggy variant; evidence compares two different variants",
                evidence.fixed
            ),
        );
    }
}

pub(crate) fn report_ref(
    r: &mut Reporter<'_>,
    base: &str,
    variant_field: &str,
    problems: Vec<RefProblem>,
) {
    for problem in problems {
        match problem {
            RefProblem::UnknownDemo(msg) => {
                r.value(&format!("{base}.demo"), ProblemKind::UnknownDemo, msg)
            }
            RefProblem::UnknownVariant(i, msg) => {
                let path = if variant_field == "variant" {
                    format!("{base}.variant")
                } else {
                    format!("{base}.{variant_field}[{i}]")
                };
                r.value(&path, ProblemKind::UnknownVariant, msg);
            }
            RefProblem::BadParam(name, msg) => {
                r.value(&format!("{base}.params.{name}"), ProblemKind::BadParam, msg)
            }
        }
    }
}

/// Checks across files: ids and guide numbers must be unique.
/// `places` holds each lesson's id and number positions, in the same order.
pub(crate) fn check_set(
    lessons: &[Lesson],
    places: &[[Position; 2]],
    problems: &mut Vec<Problem>,
) -> HashSet<usize> {
    let mut rejected = HashSet::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_number: HashMap<(LessonKind, u32), usize> = HashMap::new();
    for (i, lesson) in lessons.iter().enumerate() {
        let [id_pos, number_pos] = places[i];
        if let Some(&first) = by_id.get(lesson.id.0.as_str()) {
            problems.push(Problem::at(
                &lesson.file,
                id_pos,
                "id",
                ProblemKind::Duplicate,
                format!("id `{}` is also used by {}", lesson.id, lessons[first].file),
            ));
            rejected.insert(i);
        } else {
            by_id.insert(&lesson.id.0, i);
        }
        if let Some(&first) = by_number.get(&(lesson.kind, lesson.number)) {
            problems.push(Problem::at(
                &lesson.file,
                number_pos,
                "number",
                ProblemKind::Duplicate,
                format!("{} is also used by {}", lesson.label(), lessons[first].file),
            ));
            rejected.insert(i);
        } else {
            by_number.insert((lesson.kind, lesson.number), i);
        }
    }
    rejected
}
