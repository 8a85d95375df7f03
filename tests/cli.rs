//! The command line as a user sees it: output snapshots and exit codes.

use std::process::Command;

fn asyncdojo(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run asyncdojo");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn help() {
    let (out, _, code) = asyncdojo(&["--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn version() {
    let (out, _, code) = asyncdojo(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        format!("asyncdojo {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn list() {
    let (out, err, code) = asyncdojo(&["list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "the shipped lessons have no problems");
    insta::assert_snapshot!(out);
}

#[test]
fn list_json_has_every_lesson() {
    let (out, _, code) = asyncdojo(&["list", "--json"]);
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(26));
    assert_eq!(rows[0]["label"], "Q1");
    // The lessons beyond the guide come last, under their own kind and section.
    assert_eq!(rows[19]["label"], "B1");
    assert_eq!(rows[19]["kind"], "beyond");
    assert_eq!(rows[19]["section"], "beyond");
}

#[test]
fn check_reports_every_problem_and_exits_1() {
    let (out, _, code) = asyncdojo(&["check", "tests/fixtures/invalid_lessons"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn check_of_the_shipped_lessons_is_one_clean_line() {
    let (out, _, code) = asyncdojo(&["check", "lessons"]);
    assert_eq!(code, 0, "{out}");
    // Above the verdict, only notes on snippets the tests do not run (tests/snippets.rs).
    let (last, notes) = out
        .trim_end()
        .lines()
        .collect::<Vec<_>>()
        .split_last()
        .map(|(l, n)| (*l, n.to_vec()))
        .unwrap();
    assert!(last.starts_with("ok: 26 lessons, "), "{out}");
    assert!(notes.iter().all(|l| l.contains("info: ")), "{out}");
}

#[test]
fn check_of_a_missing_directory_says_so() {
    let (_, err, code) = asyncdojo(&["check", "no/such/dir"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot read lesson directory no/such/dir"),
        "{err}"
    );
    assert_eq!(err.matches("os error").count(), 1, "the cause once: {err}");
}

#[test]
fn show_in_a_pipe_is_plain_text() {
    let (out, _, code) = asyncdojo(&["show", "q5"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Q5 · "), "{out}");
    assert!(!out.contains('\x1b'), "no escape sequences in a pipe");
    assert!(out.contains("\nQuestion\n--------\n"));
    let (by_id, _, _) = asyncdojo(&["show", "q05-concurrent-http"]);
    assert_eq!(out, by_id);
}

#[test]
fn show_of_an_unknown_lesson_is_a_usage_error() {
    let (_, err, code) = asyncdojo(&["show", "q42"]);
    assert_eq!(code, 2);
    assert!(err.contains("no lesson named `q42`"), "{err}");
}

#[test]
fn run_errors_name_the_valid_choices_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "nope"], "unknown demo `nope` (demos: gather"),
        (
            &["run", "gather", "--variant", "fast"],
            "has no variant `fast` (variants: sequential, join-all, join-set)",
        ),
        (
            &["run", "gather", "--set", "latency=1"],
            "has no parameter `latency` (parameters: latencies_ms)",
        ),
        (
            &["run", "gather", "--set", "latencies_ms=1,99999999"],
            "99999999 ms is out of range",
        ),
        (
            &["run", "gather", "--set", "latencies_ms"],
            "--set takes NAME=VALUE",
        ),
    ];
    for (args, expected) in cases {
        let (_, err, code) = asyncdojo(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn run_prints_a_timeline_with_totals() {
    let (out, _, code) = asyncdojo(&[
        "run",
        "gather",
        "--variant",
        "sequential",
        "--variant",
        "join-all",
        "--width",
        "80",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn run_json_is_the_run_document() {
    let (out, _, code) = asyncdojo(&["run", "gather", "--json", "--set", "latencies_ms=100,300"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    insta::assert_json_snapshot!(doc);
}

#[test]
fn trace_is_written_in_chrome_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let (_, err, code) = asyncdojo(&["run", "gather", "--trace", path.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("trace written")).expect("json");
    let events = doc["traceEvents"].as_array().expect("events");
    assert!(events.iter().any(|e| e["ph"] == "X" && e["name"] == "poll"));
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "request 1")
    );
}

/// `--python` with a path relative to where asyncdojo was started, as a learner names their
/// virtualenv's interpreter: honoured even though the twin runs elsewhere.
#[test]
fn a_relative_python_is_found_from_where_asyncdojo_started() {
    use asyncdojo::demo::asyncio;
    let Some(found) = asyncio::for_tests() else {
        return;
    };
    let python = found.resolve().expect("a probed python resolves").0.program;
    let dir = std::env::temp_dir().join(format!("asyncdojo-relpy-{}", std::process::id()));
    let bin = dir.join("venv/bin");
    std::fs::create_dir_all(&bin).expect("a venv-like directory");
    let link = bin.join("python");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&python, &link).expect("a link to python3");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
            .args(args)
            .current_dir(&dir)
            .env_remove("ASYNCDOJO_PYTHON")
            .output()
            .expect("run asyncdojo")
    };
    for args in [
        &[
            "run",
            "gather",
            "--runtime",
            "asyncio",
            "--python",
            "./venv/bin/python",
        ][..],
        &[
            "--python",
            "venv/bin/python",
            "run",
            "gather",
            "--runtime",
            "asyncio",
        ][..],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("── join-all (gather) ──"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
