//! Every class of lesson problem has a fixture with one mistake, and its exact message and place.

use std::path::Path;

use asyncdojo::demo::Registry;
use asyncdojo::lesson::{self, ProblemKind};

fn fixture_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// (file, kind, "LINE:COL: path: message") — the whole line after the file name.
const EXPECTED: &[(&str, ProblemKind, &str)] = &[
    (
        "alias-bomb.yaml",
        ProblemKind::TooDeep,
        "1:1: (file): repetition limit exceeded: the document nests or repeats too much",
    ),
    (
        "answer-out-of-range.yaml",
        ProblemKind::OutOfRange,
        "77:13: quiz[2].answer: option 4 does not exist (2 options)",
    ),
    (
        "bad-param-value.yaml",
        ProblemKind::BadParam,
        "38:29: demos[0].params.latencies_ms: 999999 ms is out of range (1..=100000 durations, each 0..=60000 ms)",
    ),
    (
        "bidi-override.yaml",
        ProblemKind::ControlCharacter,
        "13:5: key_points[0]: contains the control character U+202E (text line 1); lesson text may not carry escape sequences or other invisible controls",
    ),
    (
        "bug-line-outside.yaml",
        ProblemKind::OutOfRange,
        "51:17: spot_the_bug[0].bugs[0].lines[0]: line 9 is outside the snippet (lines 1-4)",
    ),
    (
        "duplicate-quiz-id.yaml",
        ProblemKind::Duplicate,
        "64:9: quiz[1].id: id `gather-total` is already used by quiz[0]",
    ),
    (
        "empty-text.yaml",
        ProblemKind::EmptyText,
        "6:8: title: must not be empty",
    ),
    (
        "escape-sequence.yaml",
        ProblemKind::ControlCharacter,
        "6:8: title: contains the control character U+001B (text line 1); lesson text may not carry escape sequences or other invisible controls",
    ),
    (
        "missing-field.yaml",
        ProblemKind::MissingField,
        "1:1: question: missing field `question`",
    ),
    (
        "newer-format.yaml",
        ProblemKind::UnsupportedVersion,
        "1:17: format_version: format version 2 is newer than this asyncdojo understands (1); update asyncdojo",
    ),
    (
        "not-utf8.yaml",
        ProblemKind::NotUtf8,
        "6:32: (file): not valid UTF-8 (byte 0xff at offset 110); save the file as UTF-8",
    ),
    (
        "predict-real-only.yaml",
        ProblemKind::UnknownVariant,
        "59:14: quiz[0].variant: variant `multi-thread` of `event-loop` runs only on the real clock; predictions are scored on the virtual clock, so pick a variant that supports it",
    ),
    (
        "raw-control.yaml",
        ProblemKind::Syntax,
        "6:20: (file): YAML syntax: control characters are not allowed at position 101",
    ),
    (
        "small-alias.yaml",
        ProblemKind::AliasNotAllowed,
        "38:16: (file): YAML anchors and aliases are not allowed in lessons; write the text out",
    ),
    (
        "stray-quiz-field.yaml",
        ProblemKind::Inconsistent,
        "77:5: quiz[2].measure: a choice item does not use `measure`",
    ),
    (
        "syntax.yaml",
        ProblemKind::Syntax,
        "7:9: (file): YAML syntax: did not find expected ',' or ']' at line 7 column 9, while parsing a flow sequence",
    ),
    (
        "unknown-demo.yaml",
        ProblemKind::UnknownDemo,
        "36:11: demos[0].demo: unknown demo `gathr` (demos: ",
    ),
    (
        "unknown-evidence-variant.yaml",
        ProblemKind::UnknownVariant,
        "57:14: spot_the_bug[0].evidence.fixed: demo `blocking` has no variant `asleep` (variants: blocking, async-sleep, spawn-blocking)",
    ),
    (
        "unknown-field.yaml",
        ProblemKind::UnknownField,
        "7:1: difficulty: unknown field `difficulty`, expected one of: answer, code, demos, format_version, id, key_points, kind, mapping, number, question, quiz, section, spot_the_bug, title",
    ),
    (
        "unknown-param.yaml",
        ProblemKind::BadParam,
        "38:27: demos[0].params.latency_ms: demo `gather` has no parameter `latency_ms` (parameters: latencies_ms)",
    ),
    (
        "unknown-variant.yaml",
        ProblemKind::UnknownVariant,
        "37:28: demos[0].variants[1]: demo `gather` has no variant `parallel` (variants: sequential, join-all, join-set)",
    ),
    (
        "unsupported-language.yaml",
        ProblemKind::UnsupportedLanguage,
        "24:15: code[1].language: unsupported language `go` (supported: python, rust)",
    ),
    (
        "wrong-id.yaml",
        ProblemKind::Inconsistent,
        "2:5: id: id `q99-other` does not match the file name `wrong-id`; rename one of them",
    ),
    (
        "wrong-type.yaml",
        ProblemKind::WrongType,
        "4:9: number: invalid type: string \"first\", expected u32",
    ),
];

#[test]
fn every_problem_class_is_reported_with_its_place() {
    let set = lesson::load_dir(&fixture_dir("invalid_lessons"), &Registry).expect("fixtures load");
    assert!(set.lessons.is_empty(), "every fixture has a problem");
    for (file, kind, tail) in EXPECTED {
        let found = set
            .problems
            .iter()
            .find(|p| &p.file == file && p.kind == *kind)
            .unwrap_or_else(|| panic!("no {kind:?} problem for {file}; got {:#?}", set.problems));
        let line = found.to_string();
        assert!(
            line.starts_with(&format!("{file}:{tail}")),
            "{file}: expected `{file}:{tail}`, got `{line}`"
        );
    }
    // Every fixture file is covered by the table, so a new fixture needs an expectation.
    let files: std::collections::BTreeSet<&str> =
        set.problems.iter().map(|p| p.file.as_str()).collect();
    let expected: std::collections::BTreeSet<&str> = EXPECTED.iter().map(|e| e.0).collect();
    assert_eq!(files, expected);
}

#[test]
fn one_file_can_report_many_problems_at_once() {
    let set = lesson::load_dir(&fixture_dir("invalid_lessons"), &Registry).expect("fixtures load");
    let lang: Vec<String> = set
        .problems
        .iter()
        .filter(|p| p.file == "unsupported-language.yaml")
        .map(ToString::to_string)
        .collect();
    // The bad language, and so the missing rust snippet: both in one run.
    assert_eq!(
        lang,
        [
            "unsupported-language.yaml:15:3: code: needs a rust snippet",
            "unsupported-language.yaml:24:15: code[1].language: unsupported language `go` (supported: python, rust)",
        ]
    );
}

#[test]
fn duplicate_ids_and_numbers_across_files_are_reported_and_the_first_kept() {
    let set = lesson::load_dir(&fixture_dir("duplicates"), &Registry).expect("fixtures load");
    let lines: Vec<String> = set.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "dup-a.yml:2:5: id: id `dup-a` is also used by dup-a.yaml",
            "dup-b.yaml:4:9: number: Q1 is also used by dup-a.yaml",
        ]
    );
    let ids: Vec<&str> = set.lessons.iter().map(|l| l.id.0.as_str()).collect();
    assert_eq!(ids, ["dup-a"]);
}

#[test]
fn a_bad_file_never_hides_the_good_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixture_dir("valid").join("q01-sync-vs-async.yaml"),
        dir.path().join("q01-sync-vs-async.yaml"),
    )
    .expect("copy");
    std::fs::copy(
        fixture_dir("invalid_lessons").join("syntax.yaml"),
        dir.path().join("syntax.yaml"),
    )
    .expect("copy");
    let set = lesson::load_dir(dir.path(), &Registry).expect("load");
    assert_eq!(set.lessons.len(), 1);
    assert_eq!(set.problems.len(), 1);
    assert_eq!(set.problems[0].file, "syntax.yaml");
}

#[test]
fn a_50_mb_file_is_refused_without_being_read_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.yaml");
    let line = "key_points: [\"padding padding padding padding padding padding\"]\n";
    let mut text = String::with_capacity(50 * 1024 * 1024 + line.len());
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    std::fs::write(&path, text).expect("write");
    let set = lesson::load_dir(dir.path(), &Registry).expect("load");
    assert_eq!(set.problems.len(), 1);
    assert_eq!(set.problems[0].kind, ProblemKind::TooLarge);
    assert_eq!(
        set.problems[0].to_string(),
        "huge.yaml:1:1: (file): the file is larger than 1024 KiB; lesson files are limited to that size"
    );
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused() {
    let deep = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let err = lesson::parse_lesson("deep.yaml", deep.as_bytes(), &Registry).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].kind, ProblemKind::TooDeep);
    // Refused where the scanner's own flow limit (255 levels) stops it, before the YAML library
    // scans the rest: that scan, quadratic in the depth, is what made this case slow.
    assert_eq!(
        err[0].to_string(),
        "deep.yaml:1:259: (file): nested more than 16 levels deep here; lessons allow at most 16"
    );

    // Deeper than the schema needs but within the scanner's limit: refused at the first node past
    // our own bound (the 17th `[`).
    let medium = format!("a: {}{}\n", "[".repeat(40), "]".repeat(40));
    let err = lesson::parse_lesson("medium.yaml", medium.as_bytes(), &Registry).unwrap_err();
    assert_eq!(
        err[0].to_string(),
        "medium.yaml:1:20: (file): nested more than 16 levels deep here; lessons allow at most 16"
    );

    // Exactly at the bound is fine as far as nesting goes (other problems are reported instead).
    let at_bound = format!("a: {}{}\n", "[".repeat(16), "]".repeat(16));
    let err = lesson::parse_lesson("bound.yaml", at_bound.as_bytes(), &Registry).unwrap_err();
    assert!(
        err.iter().all(|p| p.kind != ProblemKind::TooDeep),
        "{err:?}"
    );
}

#[test]
fn an_incomplete_quiz_item_is_reported_and_never_loaded() {
    // After validation a quiz item is typed by kind (`QuizTask`), so an item without what its
    // kind needs cannot be built: the loader reports it and passes on no lesson.
    let valid = std::fs::read_to_string(fixture_dir("valid").join("q01-sync-vs-async.yaml"))
        .expect("fixture");
    let cases = [
        (
            "    demo: gather\n",
            "quiz[0]",
            "a predict item needs `demo`",
        ),
        (
            "    measure: total_ms\n",
            "quiz[0]",
            "a predict item needs `measure`",
        ),
        (
            "    answer: 300\n",
            "quiz[0]",
            "a predict item needs `answer`",
        ),
        (
            "    answer: 2\n",
            "quiz[2].answer",
            "missing field `answer`",
        ),
        (
            "    options: [\"Yes\", \"No: one thread interleaves them at await points\"]\n",
            "quiz[2].options",
            "a choice item needs at least 2 options",
        ),
        (
            "    exercise: sleep-blocks\n",
            "quiz[3]",
            "a spot-the-bug item needs `exercise`",
        ),
    ];
    for (line, path, message) in cases {
        assert!(valid.contains(line), "the fixture has `{}`", line.trim());
        let incomplete = valid.replacen(line, "", 1);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("q01-sync-vs-async.yaml"), incomplete).expect("write");
        let set = lesson::load_dir(dir.path(), &Registry).expect("load");
        assert!(
            set.lessons.is_empty(),
            "without `{}` the lesson still loaded",
            line.trim()
        );
        assert!(
            set.problems
                .iter()
                .any(|p| p.kind == ProblemKind::MissingField
                    && p.path == path
                    && p.message.starts_with(message)),
            "without `{}`: {:#?}",
            line.trim(),
            set.problems
        );
    }
}

/// Evidence is checked like a demo reference, each mistake at its own place.
#[test]
fn every_evidence_mistake_is_reported_at_its_place() {
    let valid = std::fs::read_to_string(fixture_dir("valid").join("q01-sync-vs-async.yaml"))
        .expect("the valid fixture");
    let good = "      demo: blocking\n      buggy: blocking\n      fixed: async-sleep\n      params: { ticks: 5 }\n";
    assert!(valid.contains(good), "the fixture has evidence");
    let cases = [
        (
            "      demo: blockng\n      buggy: blocking\n      fixed: async-sleep\n      params: { ticks: 5 }\n",
            ProblemKind::UnknownDemo,
            "55:13: spot_the_bug[0].evidence.demo: unknown demo `blockng`",
        ),
        (
            "      demo: blocking\n      buggy: blockng\n      fixed: async-sleep\n      params: { ticks: 5 }\n",
            ProblemKind::UnknownVariant,
            "56:14: spot_the_bug[0].evidence.buggy: demo `blocking` has no variant `blockng`",
        ),
        (
            "      demo: blocking\n      buggy: blocking\n      fixed: blocking\n      params: { ticks: 5 }\n",
            ProblemKind::Inconsistent,
            "57:14: spot_the_bug[0].evidence.fixed: `blocking` is also the buggy variant; evidence compares two different variants",
        ),
        (
            "      demo: blocking\n      buggy: blocking\n      fixed: async-sleep\n      params: { tick: 5 }\n",
            ProblemKind::BadParam,
            "58:23: spot_the_bug[0].evidence.params.tick: demo `blocking` has no parameter `tick`",
        ),
        (
            "      demo: blocking\n      buggy: blocking\n      fixed: async-sleep\n      variants: [blocking]\n",
            ProblemKind::UnknownField,
            "58:7: spot_the_bug[0].evidence.variants: unknown field `variants`, expected one of",
        ),
    ];
    for (evidence, kind, tail) in cases {
        let text = valid.replace(good, evidence);
        let problems = lesson::parse_lesson("q01-sync-vs-async.yaml", text.as_bytes(), &Registry)
            .expect_err("a mistake in the evidence is a problem");
        let line = problems
            .iter()
            .find(|p| p.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} problem; got {problems:#?}"))
            .to_string();
        assert!(
            line.starts_with(&format!("q01-sync-vs-async.yaml:{tail}")),
            "expected `{tail}`, got `{line}`"
        );
    }
}
