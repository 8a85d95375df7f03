//! Practice runs its twins on the interpreter this process chose at start (`--python`, made
//! absolute from the start directory), as the app does (tests/e2e.rs) and `run` does
//! (tests/cli.rs): a prediction measured on asyncio and a bug's evidence shown on asyncio.
//!
//! Its own test binary: the choice is made once per process, so no other test may make it first.

#[path = "support/stand_in.rs"]
mod stand_in;

use std::path::Path;

use asyncdojo::demo::Registry;
use asyncdojo::demo::asyncio::{Python, PythonOrigin, Runtime, for_tests};
use asyncdojo::lesson::Lesson;
use asyncdojo::practice::evidence::{evidence_request, run_shown_on};
use asyncdojo::practice::run_predict;

fn lesson<'a>(lessons: &'a [Lesson], id: &str) -> &'a Lesson {
    lessons.iter().find(|l| l.id.0 == id).expect("lesson")
}

#[cfg(unix)]
#[test]
fn practice_runs_its_twins_on_the_python_chosen_at_start() {
    let Some(py) = for_tests() else { return };
    let start = tempfile::tempdir().expect("a start directory");
    let start = start.path().canonicalize().unwrap();
    let record = start.join("launched");
    // A stand-in interpreter: says how it was named and which twin it was given, then is the
    // real one.
    let fake = stand_in::recording_python(&start, &record, &py.program);

    // Started in `start` with `--python venv/bin/python`, as cli::run chooses; then the process
    // moves on, so a path left relative would name nothing.
    std::env::set_current_dir(&start).unwrap();
    let chosen = Python::choose_for_process(Some(Path::new("venv/bin/python")));
    assert_eq!(
        (&chosen.program, chosen.origin),
        (&fake, PythonOrigin::Flag)
    );
    std::env::set_current_dir("/").unwrap();

    let ls = asyncdojo::lesson::load_embedded(&Registry).lessons;
    let item = lesson(&ls, "b3-contextvars")
        .quiz
        .iter()
        .find(|q| q.id == "group-of-lookups")
        .expect("a prediction measured on asyncio");
    let predicted = run_predict(item).expect("the prediction's run");
    assert!(predicted.runs.iter().all(|r| r.runtime == Runtime::Asyncio));

    let hunt = lesson(&ls, "c3-task-scheduler")
        .spot_the_bug
        .iter()
        .find(|h| h.id == "guide-scheduler")
        .expect("an exercise with Python code");
    let request = evidence_request(hunt.evidence.as_ref().expect("evidence")).unwrap();
    let shown = run_shown_on(request, Runtime::Asyncio).expect("the evidence run");
    assert_eq!((shown.runtime, shown.note), (Runtime::Asyncio, None));

    let launched = std::fs::read_to_string(&record).unwrap_or_default();
    let f = fake.display();
    assert_eq!(
        launched,
        format!("{f} gather.py\n{f} scheduler.py\n"),
        "both twins ran on the chosen interpreter, by its absolute path"
    );
}
