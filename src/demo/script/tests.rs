//! The channel, line by line: what the tracer may say, and what is refused.

use super::*;
use crate::demo::timeline::Outcome;

fn state() -> State {
    State::new(ScriptStart::new("prog.py", vec!["--fast".into()]))
}

/// A run document of one run, as the tracer writes it; `name` is task 2's name.
fn doc(variant: &str, name: &str, finished: bool) -> String {
    let finish = if finished {
        r#""finished_ms":30.0,"outcome":"ok","detail":"","polls":[[0.0,0.1]],"seqs":[0,1,2]"#
    } else {
        r#""finished_ms":null,"outcome":"running","detail":"","polls":[[0.0,0.1]],"seqs":[0,1]"#
    };
    serde_json::json!({
        "format_version": 3, "demo": "prog.py", "clock": "real", "runtime": "asyncio",
        "params": {}, "runs": [{
            "variant": variant, "total_ms": 30.0,
            "tasks": [serde_json::from_str::<serde_json::Value>(&format!(
                r#"{{"id":1,"name":{},"parent":null,"spawned_ms":0.0,{finish},"line":4}}"#,
                serde_json::Value::from(name)
            )).unwrap()],
            "marks": [], "series": {}, "series_seqs": {}, "metrics": {}, "wakes": [],
            "now_ms": 30.0
        }]
    })
    .to_string()
}

fn line(key: &str, value: &str) -> String {
    format!("{{\"{key}\": {value}}}")
}

#[test]
fn a_scripts_stdout_is_text_even_when_it_is_json() {
    let mut s = state();
    let printed = serde_json::Value::from("{\"run\": {\"format_version\": 3}}\n").to_string();
    s.take_line(line("stdout", &printed).as_bytes()).unwrap();
    s.take_line(line("stdout", "\"more \\u001b[31mred\\n\"").as_bytes())
        .unwrap();
    assert!(s.runs.is_empty() && s.live.is_none());
    let shown = s.output.stdout.shown();
    assert!(
        shown.starts_with("{\"run\": {\"format_version\": 3}}\n"),
        "{shown}"
    );
    assert!(shown.contains("more \\u{1b}[31mred"), "{shown}");
    assert!(!shown.contains('\x1b'));
}

#[test]
fn a_live_run_shows_until_its_finished_run_replaces_it() {
    let mut s = state();
    s.take_line(line("live", &doc("run 1", "main", false)).as_bytes())
        .unwrap();
    let runs = s.all_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].total_ms, None, "still running");
    assert_eq!(runs[0].timeline.tasks[0].outcome, Outcome::Running);
    s.take_line(line("run", &doc("run 1", "main", true)).as_bytes())
        .unwrap();
    s.take_line(line("live", &doc("run 2", "main", false)).as_bytes())
        .unwrap();
    let runs = s.all_runs();
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["run 1", "run 2"]);
    assert_eq!(runs[0].total_ms, Some(30.0));
    assert_eq!(runs[0].run_name(), "run 1");
    assert_eq!(
        runs[0].origin,
        Origin::Script {
            path: "prog.py".into(),
            args: vec!["--fast".into()]
        }
    );
    assert_eq!(runs[0].runtime, Runtime::Asyncio);
    // Killed while run 2 went on: it is kept, ended by why it stopped.
    s.close_live(&ScriptEnd::TimedOut(Duration::from_secs(5)));
    assert_eq!(s.runs.len(), 2);
    let why = s.runs[1].error.as_ref().unwrap().to_string();
    assert!(why.contains("within 5 s"), "{why}");
    assert_eq!(s.runs[1].total_ms, Some(30.0));
}

#[test]
fn names_labels_and_notes_reach_the_screen_without_escapes() {
    let mut s = state();
    s.take_line(
        line(
            "run",
            &doc("run\u{1b}[2J 1", "evil\u{1b}]0;title\u{7}", true),
        )
        .as_bytes(),
    )
    .unwrap();
    s.take_line(line("note", "\"uvloop \\u001b[31m is not followed\\nsecond\"").as_bytes())
        .unwrap();
    let run = &s.runs[0];
    assert!(!run.label.contains('\x1b'), "{}", run.label);
    let name = &run.timeline.tasks[0].name;
    assert_eq!(name, "evil\\u{1b}]0;title\\u{7}");
    assert_eq!(
        s.output.notes,
        ["uvloop \\u{1b}[31m is not followed second"]
    );
}

#[test]
fn the_files_are_read_from_disk_bounded_and_made_safe() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.py");
    std::fs::write(&main, "import asyncio\r\nprint('\x1b[31m')\n").unwrap();
    let huge = dir.path().join("huge.py");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(MAX_SOURCE + 1).unwrap();
    let mut s = state();
    let files = serde_json::json!([main, huge, dir.path().join("gone.py")]).to_string();
    s.take_line(line("files", &files).as_bytes()).unwrap();
    assert_eq!(s.sources.len(), 3);
    assert_eq!(
        &*s.sources[0].text,
        "import asyncio\nprint('\\u{1b}[31m')\n"
    );
    assert_eq!(s.sources[0].language, Language::Python);
    assert!(
        s.sources[1].text.contains("more than the 4 MiB"),
        "{}",
        s.sources[1].text
    );
    assert!(s.sources[2].text.starts_with("# asyncdojo could not read"));
    // The list only grows: the same files again is fine, a renamed one is not.
    s.take_line(line("files", &files).as_bytes()).unwrap();
    let renamed = serde_json::json!([huge]).to_string();
    let err = s.take_line(line("files", &renamed).as_bytes()).unwrap_err();
    assert!(err.starts_with("line 3: "), "{err}");
}

#[test]
fn a_line_that_breaks_the_contract_is_refused_with_its_number() {
    let refused = |lines: &[String], says: &str| {
        let mut s = state();
        let mut err = None;
        for l in lines {
            if let Err(e) = s.take_line(l.as_bytes()) {
                err = Some(e);
                break;
            }
        }
        let err = err.unwrap_or_else(|| panic!("accepted: {lines:?}"));
        assert!(err.contains(says), "{says}: {err}");
        err
    };
    let ok = line("stdout", "\"hi\"");
    let err = refused(&[ok.clone(), ok.clone(), "not json".into()], "not JSON");
    assert!(err.starts_with("line 3: "), "{err}");
    refused(
        &[r#"{"stdout": "a", "note": "b"}"#.into()],
        "exactly one key",
    );
    refused(&[r#"{"colour": "red"}"#.into()], "not a message");
    refused(
        &[line(
            "run",
            &doc("run 1", "main", true).replace("\"format_version\":3", "\"format_version\":9"),
        )],
        "format 9",
    );
    refused(
        &[line(
            "live",
            &doc("run 1", "main", true).replace("\"seqs\":[0,1,2]", "\"seqs\":[2,1,0]"),
        )],
        "seqs",
    );
    refused(
        &[line(
            "run",
            &doc("run 1", "main", true).replace("\"line\":4", "\"line\":4,\"file\":3"),
        )],
        "file 3",
    );
    refused(
        &[line("exit", r#"{"code": 0, "error": null}"#), ok.clone()],
        "after `exit`",
    );
    refused(
        &[vec![0xff, 0xfe].into_iter().map(char::from).collect()],
        "",
    );
    let mut s = state();
    assert!(
        s.take_line(&[b'{', 0xff, b'}'])
            .unwrap_err()
            .contains("UTF-8")
    );
}

#[test]
fn the_exit_message_gives_the_code_and_the_traceback() {
    let mut s = state();
    let tb = "Traceback (most recent call last):\n  File \"prog.py\", line 3\nValueError: boom \u{1b}[0m";
    let exit = serde_json::json!({"code": 1, "error": tb}).to_string();
    s.take_line(line("exit", &exit).as_bytes()).unwrap();
    assert!(s.exited);
    let ScriptEnd::Exited { code, traceback } = &s.output.end else {
        panic!("{:?}", s.output.end)
    };
    assert_eq!(*code, 1);
    let tb = traceback.as_deref().unwrap();
    assert!(tb.ends_with("ValueError: boom \\u{1b}[0m"), "{tb}");
    assert!(tb.contains('\n'), "a traceback keeps its lines");
    assert!(!s.output.end.ok());
    assert!(s.output.end.describe().contains("uncaught exception"));
}

#[test]
fn kept_output_is_its_end_and_says_what_was_left_out() {
    let mut c = Captured::new(10);
    c.push("0123456789");
    c.push("abcdé");
    assert_eq!(c.dropped, 6);
    assert_eq!(
        c.shown(),
        "[… 6 bytes before this were not kept]\n6789abcdé"
    );
}

#[test]
fn a_channel_line_past_the_bound_is_an_error_not_an_allocation() {
    let data = format!("{}\n{}\n", "x".repeat(10), "y".repeat(100));
    let mut r = std::io::BufReader::with_capacity(8, data.as_bytes());
    let mut buf = Vec::new();
    assert!(read_line(&mut r, &mut buf, 50).unwrap().is_some());
    assert_eq!(buf, b"xxxxxxxxxx");
    let err = read_line(&mut r, &mut buf, 50).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(buf.is_empty());
    // A last line without its newline still counts.
    let mut r = std::io::BufReader::new(&b"a\nlast"[..]);
    assert!(read_line(&mut r, &mut buf, 50).unwrap().is_some());
    assert!(read_line(&mut r, &mut buf, 50).unwrap().is_some());
    assert_eq!(buf, b"last");
    assert!(read_line(&mut r, &mut buf, 50).unwrap().is_none());
}

#[test]
fn runs_past_the_bound_are_counted_and_said_once() {
    let mut s = state();
    let run = line("run", &doc("run", "main", true));
    for _ in 0..MAX_RUNS + 3 {
        s.take_line(run.as_bytes()).unwrap();
    }
    assert_eq!(s.runs.len(), MAX_RUNS);
    assert_eq!(s.runs_dropped, 3);
    assert_eq!(s.output.notes.len(), 1, "{:?}", s.output.notes);
}

#[test]
fn a_missing_script_is_a_usage_error_and_starts_nothing() {
    let py = Python::choose(Some(Path::new("/nonexistent/python3")));
    let err =
        ScriptHandle::start(ScriptStart::new("/nonexistent/prog.py", vec![]), &py).unwrap_err();
    assert!(err.is_usage(), "{err}");
    assert!(err.to_string().contains("/nonexistent/prog.py"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = ScriptHandle::start(ScriptStart::new(dir.path(), vec![]), &py).unwrap_err();
    assert!(matches!(err, ScriptError::NotAFile(_)), "{err}");
}

#[test]
fn printing_does_not_count_as_a_change_of_the_runs() {
    let mut s = state();
    s.take_line(line("live", &doc("run 1", "main", false)).as_bytes())
        .unwrap();
    let v = s.runs_version;
    for _ in 0..10 {
        s.take_line(line("stdout", "\"tick\\n\"").as_bytes())
            .unwrap();
    }
    assert_eq!(
        s.runs_version, v,
        "the app would copy the runs for each print"
    );
    s.take_line(line("run", &doc("run 1", "main", true)).as_bytes())
        .unwrap();
    assert!(s.runs_version > v);
}
