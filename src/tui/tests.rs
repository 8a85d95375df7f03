//! The loop's promises without a terminal: effects that could block are handed off and the loop
//! returns first; quitting writes progress; terminal keys decode to the app's keys.

use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::app::practice::{ItemState, PracticeView};
use crate::lesson::QuizItem;

fn fixture_app() -> App {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    App::new(
        crate::lesson::load_dir(&dir, &crate::demo::Registry).expect("fixture lessons"),
        true,
    )
}

fn predict_result(app: &App) -> Option<Result<crate::practice::PredictScore, String>> {
    match &app.practice.view {
        Some(PracticeView::Quiz(q)) => match &q.state {
            ItemState::Predict { result, .. } => result.clone(),
            other => panic!("not a prediction: {other:?}"),
        },
        _ => panic!("not in a quiz"),
    }
}

#[test]
fn scoring_a_prediction_goes_to_a_worker_and_the_loop_returns_before_the_run() {
    let (tx, rx) = mpsc::channel();
    let (go, wait_for_go) = mpsc::channel::<()>();
    let wait_for_go = Mutex::new(wait_for_go);
    let ran_on = Arc::new(Mutex::new(None));
    let scorer_ran_on = Arc::clone(&ran_on);
    // The run is held until the test has seen the loop return. A loop that ran it itself would
    // sit here until the timeout, and the answer it then applied would be this error.
    let gated = move |item: &QuizItem, typed: &str| {
        *scorer_ran_on.lock().expect("lock") = Some(std::thread::current().id());
        wait_for_go
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "the loop waited for the run".to_owned())?;
        effects::score_prediction(item, typed)
    };
    let mut effects = Effects::new(tx, None, gated);
    let mut app = fixture_app();
    let keys = [
        Action::Open,
        Action::StartQuiz,
        Action::Char('3'),
        Action::Char('0'),
        Action::Char('0'),
        Action::Open,
    ];
    assert_eq!(
        dispatch(&mut app, &mut effects, keys.into()),
        Flow::Continue
    );
    assert_eq!(predict_result(&app), None, "nothing is scored yet");
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));

    go.send(()).expect("the worker is waiting");
    let Ok(Incoming::Action(answer @ Action::PredictScored { .. })) =
        rx.recv_timeout(Duration::from_secs(60))
    else {
        panic!("the worker answers with PredictScored");
    };
    let worker = *ran_on.lock().expect("lock");
    assert!(worker.is_some_and(|id| id != std::thread::current().id()));
    let before = app.progress_version;
    assert_eq!(
        dispatch(&mut app, &mut effects, [answer].into()),
        Flow::Continue
    );
    assert!(
        matches!(predict_result(&app), Some(Ok(s)) if s.within_tolerance),
        "300 ms is the measured total"
    );
    assert!(app.progress_version > before, "the scored answer is saved");
}

#[test]
fn a_practice_run_goes_to_a_worker_and_comes_back_as_an_action() {
    use crate::practice::RunPurpose;
    let (tx, rx) = mpsc::channel();
    let mut effects = Effects::new(tx, None, effects::score_prediction);
    let app = fixture_app();
    // The real clock: the run takes over a second, so an answer already waiting when `perform`
    // returns would mean the loop had run it itself.
    let request = crate::demo::RunRequest::build(
        "blocking",
        &["blocking".into(), "async-sleep".into()],
        &["ticks=3".into(), "block_ms=300".into()],
        crate::demo::Clock::Real,
    )
    .expect("request");
    let purpose = RunPurpose::Evidence(crate::practice::ItemKey::quiz(
        &app.lessons[0].id,
        "spot-sleep",
    ));
    let effect = crate::app::Effect::RunPractice {
        purpose: purpose.clone(),
        request,
        runtime: crate::demo::asyncio::Runtime::Tokio,
    };
    assert!(matches!(
        effects.perform(effect, &app),
        effects::Step::Continue
    ));
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    let Ok(Incoming::Action(Action::PracticeRan {
        purpose: back,
        result,
    })) = rx.recv_timeout(Duration::from_secs(60))
    else {
        panic!("the worker answers with PracticeRan");
    };
    assert_eq!(back, purpose);
    let run = result.expect("the run");
    assert_eq!(run.runs.len(), 2, "the buggy and the fixed variant");
}

#[test]
fn quitting_writes_the_latest_progress_through_the_saver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opened = crate::progress::Store::open(dir.path());
    assert!(opened.store.can_save());
    let (tx, _rx) = mpsc::channel();
    let saver = saver::Saver::start(opened.store, |_| {}).expect("saver thread");
    let mut effects = Effects::new(tx, Some(saver), effects::score_prediction);
    let mut app = fixture_app();
    assert_eq!(
        dispatch(&mut app, &mut effects, [Action::Open].into()),
        Flow::Continue
    );
    // A change the loop has not handed over yet, then quit.
    let _ = app.update(Action::Run);
    assert_eq!(
        dispatch(&mut app, &mut effects, [Action::Quit].into()),
        Flow::Quit
    );
    shut_down(&app, effects);
    let saved = crate::progress::Store::open(dir.path()).progress;
    assert_ne!(saved, crate::progress::Progress::default());
    assert_eq!(saved, app.progress, "the last change is on disk");
}

#[test]
fn terminal_keys_become_the_apps_keys() {
    use crossterm::event::KeyCode as Term;
    let key = |code, modifiers| key_from(&KeyEvent::new(code, modifiers));
    assert_eq!(
        key(Term::Char('c'), KeyModifiers::CONTROL),
        Some(Key::ctrl(KeyCode::Char('c')))
    );
    assert_eq!(
        key(Term::Char('R'), KeyModifiers::SHIFT),
        Some(Key::new(KeyCode::Char('R')))
    );
    assert_eq!(
        key(Term::BackTab, KeyModifiers::SHIFT),
        Some(Key::new(KeyCode::BackTab))
    );
    assert_eq!(key(Term::F(1), KeyModifiers::NONE), None);
}

/// A usable Python for the twins, or `None` (see `asyncio::for_tests`).
fn python_or_skip() -> Option<()> {
    crate::demo::asyncio::for_tests().map(|_| ())
}

#[test]
fn both_runs_the_twin_and_tokio_through_the_edge_and_the_code_pane_follows_the_asyncio_group() {
    if python_or_skip().is_none() {
        return;
    }
    let (tx, _rx) = mpsc::channel();
    let mut effects = Effects::new(tx, None, effects::score_prediction);
    let mut app = fixture_app();
    let keys = [
        Action::Open,
        Action::ToggleClock,
        Action::ToggleRuntime,
        Action::ToggleRuntime,
        Action::Compare,
    ];
    assert_eq!(
        dispatch(&mut app, &mut effects, keys.into()),
        Flow::Continue
    );
    assert!(
        effects.running(),
        "the twin and tokio run off the UI thread"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let finished = loop {
        assert!(std::time::Instant::now() < deadline, "the run did not end");
        match effects.poll_run() {
            Some(done @ Action::DemoFinished { .. }) => break done,
            Some(other) => {
                let _ = app.update(other);
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    assert!(!effects.running(), "nothing is left running");
    let Action::DemoFinished { runs, error } = &finished else {
        unreachable!()
    };
    assert!(error.is_none(), "{error:?}");
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    let runtimes: Vec<_> = runs.iter().map(|r| r.runtime).collect();
    assert_eq!(
        labels,
        [
            "sequential · tokio",
            "sequential (await each) · asyncio",
            "join-all · tokio",
            "join-all (gather) · asyncio"
        ]
    );
    use crate::demo::asyncio::Runtime::{Asyncio, Tokio};
    assert_eq!(runtimes, [Tokio, Asyncio, Tokio, Asyncio]);
    // On the virtual clock both runtimes take the same time: 600 ms, then the slowest, 300 ms.
    let totals: Vec<f64> = runs.iter().map(|r| r.span_ms().round()).collect();
    assert_eq!(totals, [600.0, 600.0, 300.0, 300.0]);

    let _ = app.update(finished);
    let _ = app.update(Action::ToggleVariant);
    let v = app.lesson.as_ref().expect("lesson");
    let (text, language, _) = v.code_text(&app.lessons[v.index]);
    assert_eq!(language, crate::lesson::Language::Python);
    assert_eq!(Some(text), crate::demo::asyncio::twin_source("gather"));
    // Stepping through the asyncio run, its events point at lines of the twin.
    let lines = text.lines().count() as u32;
    let mut marked = Vec::new();
    for _ in 0..40 {
        let _ = app.update(Action::Right);
        marked.extend(app.lesson.as_ref().expect("lesson").code_marks().event);
    }
    assert!(!marked.is_empty(), "no event of the twin run names a line");
    assert!(marked.iter().all(|&l| l >= 1 && l <= lines), "{marked:?}");
}

#[test]
fn an_asyncio_run_through_the_edge_names_its_groups_as_asyncio_does() {
    if python_or_skip().is_none() {
        return;
    }
    let (tx, _rx) = mpsc::channel();
    let mut effects = Effects::new(tx, None, effects::score_prediction);
    let mut app = fixture_app();
    let keys = [
        Action::Open,
        Action::ToggleClock,
        Action::ToggleRuntime,
        Action::Compare,
    ];
    let _ = dispatch(&mut app, &mut effects, keys.into());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let finished = loop {
        assert!(std::time::Instant::now() < deadline, "the run did not end");
        match effects.poll_run() {
            Some(done @ Action::DemoFinished { .. }) => break done,
            Some(Action::DemoProgress(runs)) => {
                // The finished variants show under their asyncio names as they arrive.
                for r in &runs {
                    assert!(r.label.contains(" ("), "{}", r.label);
                }
                let _ = app.update(Action::DemoProgress(runs));
            }
            Some(other) => {
                let _ = app.update(other);
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let Action::DemoFinished { runs, error } = &finished else {
        unreachable!()
    };
    assert!(error.is_none(), "{error:?}");
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["sequential (await each)", "join-all (gather)"]);
}

#[test]
fn cancelling_a_twin_run_leaves_nothing_running() {
    if python_or_skip().is_none() {
        return;
    }
    let (tx, _rx) = mpsc::channel();
    let mut effects = Effects::new(tx, None, effects::score_prediction);
    let mut app = fixture_app();
    // The real clock: the run lasts long enough to be cancelled.
    let keys = [Action::Open, Action::ToggleRuntime, Action::Run];
    let _ = dispatch(&mut app, &mut effects, keys.into());
    assert!(effects.running());
    let _ = dispatch(&mut app, &mut effects, [Action::Cancel].into());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while effects.running() {
        assert!(
            std::time::Instant::now() < deadline,
            "cancel did not end the twin"
        );
        if let Some(a) = effects.poll_run() {
            let _ = app.update(a);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_key_and_result_is_preceded_by_the_time_but_frames_are_not() {
    let app = fixture_app();
    let key = Incoming::Input(Event::Key(KeyEvent::from(crossterm::event::KeyCode::Enter)));
    assert!(
        wants_tick(&app, Some(&key)),
        "an answer is stamped when given"
    );
    let result = Incoming::Action(Action::Notify("scored".into()));
    assert!(
        wants_tick(&app, Some(&result)),
        "a scored prediction is recorded now"
    );
    assert!(!wants_tick(&app, Some(&Incoming::Highlighted)));
    assert!(
        !wants_tick(&app, None),
        "a frame of a running demo dates nothing"
    );
}

#[test]
fn the_code_panes_source_is_highlighted_off_the_loop_once_and_the_loop_is_woken() {
    let (tx, rx) = mpsc::channel();
    let mut highlighting = Highlighting::start(tx);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let set = crate::lesson::load_dir(&dir, &crate::demo::Registry).expect("fixture lessons");
    let mut app = App::new(set, false);
    // The light palette: no other test of this binary highlights the fixture's snippets in it.
    let _ = app.update(Action::ToggleTheme);
    let _ = app.update(Action::Open);
    assert!(ui::code_pane::missing_highlight(&app).is_some());
    // Frames drawn while the thread works ask once.
    highlighting.request_shown(&app);
    highlighting.request_shown(&app);
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(30)),
        Ok(Incoming::Highlighted)
    ));
    assert!(ui::code_pane::missing_highlight(&app).is_none());
    highlighting.request_shown(&app);
    assert!(matches!(
        rx.recv_timeout(Duration::from_millis(300)),
        Err(RecvTimeoutError::Timeout)
    ));
}
