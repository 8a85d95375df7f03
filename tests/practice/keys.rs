//! The practice screen's keys, through the keymap and `App::update`.

use asyncdojo::app::keymap::action_for;
use asyncdojo::app::practice::{self, ItemState, PracticeView};
use asyncdojo::app::{App, Effect, Key, KeyCode, Screen};
use asyncdojo::practice::{InterviewConfig, ItemKey, Phase, PickReason, Question};

fn app() -> App {
    App::new(asyncdojo::lesson::load_embedded(&super::Registry), true)
}

/// Press a key as the terminal loop does: through the keymap, in the focused pane.
fn press(app: &mut App, code: KeyCode) -> Effect {
    match action_for(Key::new(code), app.focus(), app.takes_text()) {
        Some(action) => app.update(action),
        None => Effect::None,
    }
}

fn quiz(app: &mut App, lesson: &str, items: &[&str]) {
    let id = asyncdojo::lesson::LessonId(lesson.into());
    let keys = items.iter().map(|i| ItemKey::quiz(&id, i)).collect();
    let q = practice::start_quiz("Quiz".into(), keys, &app.lessons).expect("items");
    app.practice.view = Some(PracticeView::Quiz(q));
    app.screen = Screen::Practice;
}

fn quiz_state(app: &App) -> (usize, ItemState) {
    match &app.practice.view {
        Some(PracticeView::Quiz(q)) => (q.index, q.state.clone()),
        other => panic!("not in a quiz: {other:?}"),
    }
}

#[test]
fn space_skips_a_prediction_before_anything_is_typed() {
    let mut a = app();
    quiz(
        &mut a,
        "q01-sync-vs-async",
        &["sequential-total", "first-done", "parallel-or-not"],
    );
    assert!(a.takes_text(), "a prediction takes text");
    let _ = press(&mut a, KeyCode::Char(' '));
    let (index, state) = quiz_state(&a);
    assert_eq!(index, 1, "Space skipped the first prediction");
    assert!(
        matches!(state, ItemState::Predict { ref input, result: None, .. } if input.is_empty())
    );
    // Once typing, Space is part of the answer: task names have spaces.
    for c in "request".chars() {
        let _ = press(&mut a, KeyCode::Char(c));
    }
    let _ = press(&mut a, KeyCode::Char(' '));
    let _ = press(&mut a, KeyCode::Char('2'));
    let (index, state) = quiz_state(&a);
    assert_eq!(index, 1);
    assert!(
        matches!(state, ItemState::Predict { ref input, .. } if input == "request 2"),
        "{state:?}"
    );
    let first = ItemKey::quiz(
        &asyncdojo::lesson::LessonId("q01-sync-vs-async".into()),
        "sequential-total",
    );
    assert!(a.progress.item(&first).is_none(), "a skip records nothing");
}

#[test]
fn space_skips_a_choice_and_marks_a_line_in_spot_the_bug() {
    let mut a = app();
    quiz(
        &mut a,
        "q01-sync-vs-async",
        &["parallel-or-not", "spot-guide-q1"],
    );
    let _ = press(&mut a, KeyCode::Char(' '));
    let (index, state) = quiz_state(&a);
    assert_eq!(index, 1);
    let _ = press(&mut a, KeyCode::Char(' '));
    let (_, state_after) = quiz_state(&a);
    assert!(matches!(state, ItemState::Spot { ref marked, .. } if marked.is_empty()));
    assert!(matches!(state_after, ItemState::Spot { ref marked, .. } if marked.len() == 1));
}

fn key(lesson: &str, item: &str) -> ItemKey {
    ItemKey::quiz(&asyncdojo::lesson::LessonId(lesson.into()), item)
}

/// Do what the app asked of the edge for a run, and feed the run back.
fn perform(app: &mut App, effect: Effect) {
    if let Effect::RunPractice {
        purpose,
        request,
        runtime,
    } = effect
    {
        let result = asyncdojo::practice::evidence::run_shown_on(request, runtime)
            .map_err(|e| e.to_string());
        let _ = app.update(asyncdojo::app::Action::PracticeRan { purpose, result });
    }
}

fn type_keys(app: &mut App, text: &str) {
    for c in text.chars() {
        let effect = press(app, KeyCode::Char(c));
        perform(app, effect);
    }
}

#[test]
fn a_task_is_named_from_the_listed_tasks_and_anything_else_is_not_scored() {
    let mut a = app();
    quiz(&mut a, "q01-sync-vs-async", &["first-done"]);
    let first = key("q01-sync-vs-async", "first-done");
    // Before the tasks are listed, Enter says to wait: nothing is scored.
    let effect @ Effect::RunPractice { .. } = press(&mut a, KeyCode::Char('2')) else {
        panic!("the item asks for its tasks when first shown");
    };
    assert!(matches!(press(&mut a, KeyCode::Enter), Effect::None));
    assert_eq!(a.message.as_deref(), Some(practice::STILL_LISTING));
    perform(&mut a, effect);
    let (_, state) = quiz_state(&a);
    assert!(
        matches!(&state, ItemState::Predict { candidates: practice::Candidates::Listed(names), .. }
            if names == &["request 1", "request 2", "request 3"]),
        "{state:?}"
    );
    // `100` (the 100 ms request) names no task: the answer lists them, nothing is recorded.
    let _ = press(&mut a, KeyCode::Backspace);
    type_keys(&mut a, "100");
    assert!(matches!(press(&mut a, KeyCode::Enter), Effect::None));
    assert_eq!(
        a.message.as_deref(),
        Some("`100` is none of the tasks: type request 1, request 2 or request 3, or its number")
    );
    let (_, state) = quiz_state(&a);
    assert!(
        matches!(state, ItemState::Predict { result: None, .. }),
        "still open"
    );
    assert!(a.progress.item(&first).is_none(), "nothing scored");
    // Its number, or the start of its name, is the task.
    for _ in 0..3 {
        let _ = press(&mut a, KeyCode::Backspace);
    }
    type_keys(&mut a, "2");
    let Effect::ScorePredict { typed, .. } = press(&mut a, KeyCode::Enter) else {
        panic!("a named task is scored");
    };
    assert_eq!(typed, "request 2");
    let _ = press(&mut a, KeyCode::Backspace);
    type_keys(&mut a, "req");
    let _ = press(&mut a, KeyCode::Enter);
    assert!(
        a.message
            .as_deref()
            .is_some_and(|m| m.contains("could be request 1, request 2 or request 3")),
        "{:?}",
        a.message
    );
}

#[test]
fn a_choice_starts_with_none_chosen_and_enter_then_says_how_to_pick() {
    let mut a = app();
    quiz(&mut a, "q01-sync-vs-async", &["parallel-or-not"]);
    let (_, state) = quiz_state(&a);
    assert!(matches!(state, ItemState::Choice { selected: None, .. }));
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(
        a.message.as_deref(),
        Some("pick an option with 1-4 or ↑/↓, then Enter")
    );
    let (index, state) = quiz_state(&a);
    assert_eq!(index, 0);
    assert!(matches!(state, ItemState::Choice { result: None, .. }));
    assert!(
        a.progress
            .item(&key("q01-sync-vs-async", "parallel-or-not"))
            .is_none()
    );
    // ↓ picks the first option; Enter answers it.
    let _ = press(&mut a, KeyCode::Down);
    let _ = press(&mut a, KeyCode::Enter);
    let (_, state) = quiz_state(&a);
    assert!(matches!(
        state,
        ItemState::Choice {
            selected: Some(0),
            result: Some(_)
        }
    ));
}

#[test]
fn spot_the_bug_is_skipped_with_s_and_enter_with_nothing_marked_asks_first() {
    let mut a = app();
    quiz(
        &mut a,
        "q01-sync-vs-async",
        &["spot-guide-q1", "parallel-or-not"],
    );
    let spot = key("q01-sync-vs-async", "spot-guide-q1");
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(a.message.as_deref(), Some(practice::MARK_A_LINE));
    let (index, state) = quiz_state(&a);
    assert_eq!(index, 0, "nothing marked is not an answer");
    assert!(matches!(state, ItemState::Spot { result: None, .. }));
    assert!(a.progress.item(&spot).is_none(), "no 0% recorded");
    let _ = press(&mut a, KeyCode::Char('s'));
    let (index, _) = quiz_state(&a);
    assert_eq!(index, 1, "s skipped it");
    assert!(a.progress.item(&spot).is_none(), "a skip records nothing");
    match &a.practice.view {
        Some(PracticeView::Quiz(q)) => {
            assert_eq!(q.tally, [practice::Tally::Skipped]);
        }
        other => panic!("{other:?}"),
    }
    // `s` skips a choice too.
    let _ = press(&mut a, KeyCode::Char('s'));
    assert!(matches!(a.practice.view, Some(PracticeView::QuizDone(_))));
}

#[test]
fn a_quiz_ends_on_its_summary_and_what_is_due_next() {
    let mut a = app();
    quiz(
        &mut a,
        "q01-sync-vs-async",
        &["parallel-or-not", "sequential-total", "spot-guide-q1"],
    );
    let _ = press(&mut a, KeyCode::Char('3'));
    let _ = press(&mut a, KeyCode::Enter);
    let _ = press(&mut a, KeyCode::Enter);
    let _ = press(&mut a, KeyCode::Char(' '));
    let (index, _) = quiz_state(&a);
    assert_eq!(index, 2);
    // Esc part-way: the summary, with what was not reached.
    let _ = press(&mut a, KeyCode::Esc);
    let Some(PracticeView::QuizDone(s)) = &a.practice.view else {
        panic!(
            "Esc after an answer shows the summary: {:?}",
            a.practice.view
        );
    };
    assert_eq!(
        (s.items, s.answered(), s.right, s.skipped, s.not_reached),
        (3, 1, 1, 1, 1)
    );
    assert_eq!(s.average, Some(1.0));
    assert_eq!(s.due_now, 0, "the right answer is due later");
    let due = a
        .progress
        .item(&key("q01-sync-vs-async", "parallel-or-not"))
        .and_then(|i| i.card.as_ref())
        .map(|c| a.now.local_day(c.due));
    assert_eq!(s.next_due, due, "the next due day is the answered item's");
    assert!(s.next_due > Some(s.today));
    let _ = press(&mut a, KeyCode::Enter);
    assert_ne!(a.screen, Screen::Practice, "Enter leaves the summary");
    // Esc before anything was answered just leaves.
    quiz(&mut a, "q01-sync-vs-async", &["parallel-or-not"]);
    let _ = press(&mut a, KeyCode::Esc);
    assert_ne!(a.screen, Screen::Practice);
}

/// The app on the mock interview, asking these lessons' questions in this order.
fn interview_of(lessons: &[&str]) -> App {
    let mut a = app();
    let question = |lesson: &str| Question {
        lesson: asyncdojo::lesson::LessonId(lesson.into()),
        reason: PickReason::New,
        weight: 1.0,
    };
    let i = asyncdojo::practice::Interview::with_questions(
        lessons.iter().map(|l| question(l)).collect(),
        InterviewConfig::default(),
    );
    a.practice.view = Some(PracticeView::Interview(i));
    a.screen = Screen::Practice;
    a
}

#[test]
fn space_after_an_interview_reveal_skips_to_the_next_question() {
    let mut a = interview_of(&["q01-sync-vs-async", "q02-event-loop"]);
    let phase = |a: &App| match &a.practice.view {
        Some(PracticeView::Interview(i)) => (i.index(), i.phase()),
        other => panic!("not in the interview: {other:?}"),
    };
    let _ = press(&mut a, KeyCode::Enter);
    let _ = press(&mut a, KeyCode::Enter);
    assert!(matches!(phase(&a), (0, Phase::Revealed { .. })));
    let _ = press(&mut a, KeyCode::Char(' '));
    assert_eq!(
        phase(&a),
        (1, Phase::Ready),
        "Space skipped the revealed question"
    );
}

/// The interview's questions are about asyncio: a reveal runs the lesson's demo on its twin when
/// the twin runs every variant the reveal shows as the same program (Q1's gather), and on tokio
/// when it has only an analogue of one (Q2's event-loop: asyncio has one kind of loop).
#[test]
fn an_interview_reveal_runs_on_asyncio_where_the_twin_runs_every_variant_as_the_same_program() {
    let mut a = interview_of(&["q01-sync-vs-async", "q02-event-loop"]);
    let reveal = |a: &mut App| {
        let _ = press(a, KeyCode::Enter);
        match press(a, KeyCode::Enter) {
            Effect::RunPractice {
                purpose: asyncdojo::practice::RunPurpose::Interview { index, lesson },
                request,
                runtime,
            } => (index, lesson.0, request.demo.spec().id, runtime),
            other => panic!("the reveal runs the lesson's demo: {other:?}"),
        }
    };
    assert_eq!(
        reveal(&mut a),
        (
            0,
            "q01-sync-vs-async".to_string(),
            "gather",
            Runtime::Asyncio
        )
    );
    let _ = press(&mut a, KeyCode::Char(' '));
    assert_eq!(
        reveal(&mut a),
        (
            1,
            "q02-event-loop".to_string(),
            "event-loop",
            Runtime::Tokio
        )
    );
}

/// A Python for the twins, or `None` (see `asyncio::for_tests`).
fn python_or_skip() -> Option<()> {
    asyncdojo::demo::asyncio::for_tests().map(|_| ())
}

fn hunt<'a>(lessons: &'a [asyncdojo::lesson::Lesson], lesson: &str, id: &str) -> &'a BugHunt {
    super::lesson(lessons, lesson)
        .spot_the_bug
        .iter()
        .find(|h| h.id == id)
        .expect("exercise")
}

use asyncdojo::demo::asyncio::Runtime;
use asyncdojo::lesson::BugHunt;
use asyncdojo::practice::evidence::{evidence_request, evidence_runtime, run_shown_with};

#[test]
fn python_code_runs_its_evidence_on_the_asyncio_twin_where_the_twin_runs_both_variants() {
    let ls = super::lessons();
    let runtime = |lesson, id| evidence_runtime(hunt(&ls, lesson, id));
    assert_eq!(
        runtime("c3-task-scheduler", "guide-scheduler"),
        Runtime::Asyncio
    );
    // Rust code stays on tokio, its own runtime.
    assert_eq!(runtime("q02-event-loop", "thread-sleep"), Runtime::Tokio);
    // Python, but asyncio has only an analogue of spawn-blocking (to_thread).
    assert_eq!(runtime("q02-event-loop", "cpu-loop"), Runtime::Tokio);
    // Python, and gather-errors' twin runs the leftover (plain gather) and the fix alike.
    assert_eq!(
        runtime("q05-concurrent-http", "gather-leftovers"),
        Runtime::Asyncio
    );

    let mut a = app();
    quiz(&mut a, "c3-task-scheduler", &["spot-guide-scheduler"]);
    let _ = press(&mut a, KeyCode::Char(' '));
    let effect = press(&mut a, KeyCode::Enter);
    let Effect::RunPractice { runtime, .. } = &effect else {
        panic!("the answer asks for the evidence run: {effect:?}");
    };
    assert_eq!(*runtime, Runtime::Asyncio);
    if python_or_skip().is_none() {
        return;
    }
    perform(&mut a, effect);
    use asyncdojo::app::practice_screen::ShownRunState;
    let shown = a.practice.shown_run.as_ref().expect("the run is shown");
    assert_eq!(shown.runtime, Runtime::Asyncio);
    assert_eq!(shown.clock, asyncdojo::demo::Clock::Virtual);
    let ShownRunState::Done { view, .. } = &shown.state else {
        panic!("the run is done: {:?}", shown.state);
    };
    assert_eq!(view.error, None);
    let labels: Vec<&str> = view.runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "bug · fixed-delay (sleep(interval))",
            "fix · fixed-rate (sleep until the slot)"
        ]
    );
    // The caption's claim holds on asyncio too: 8 runs before the cancel, then 10.
    let runs: Vec<Option<f64>> = view
        .runs
        .iter()
        .map(|r| r.timeline.metric("recurring_runs"))
        .collect();
    assert_eq!(runs, [Some(8.0), Some(10.0)]);
    // The caption and the timeline's header say it ran on asyncio.
    let area = ratatui::layout::Rect::new(0, 0, 160, 48);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    asyncdojo::ui::draw(&a, area, &mut buf);
    let screen: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(screen.contains("Evidence · scheduler · asyncio · virtual clock"));
    assert!(screen.contains("asyncio: bug · fixed-delay (sleep(interval)) 970 ms"));
}

#[test]
fn without_a_python_the_evidence_runs_on_tokio_with_a_note() {
    let ls = super::lessons();
    let h = hunt(&ls, "c3-task-scheduler", "guide-scheduler");
    let request = evidence_request(h.evidence.as_ref().expect("evidence")).expect("request");
    let missing = asyncdojo::demo::asyncio::Python::choose(Some(std::path::Path::new(
        "/nonexistent/python3",
    )));
    let run = run_shown_with(request, Runtime::Asyncio, &missing).expect("never an error");
    assert_eq!(run.runtime, Runtime::Tokio);
    assert_eq!(run.runs.len(), 2);
    assert_eq!(run.error, None);
    let note = run.note.clone().unwrap_or_default();
    assert!(
        note.starts_with("ran on tokio, not asyncio: no Python found"),
        "{note}"
    );

    // The app shows the tokio run, says so, and why.
    let mut a = app();
    quiz(&mut a, "c3-task-scheduler", &["spot-guide-scheduler"]);
    let _ = press(&mut a, KeyCode::Char(' '));
    let Effect::RunPractice { purpose, .. } = press(&mut a, KeyCode::Enter) else {
        panic!("the answer asks for the evidence run");
    };
    let _ = a.update(asyncdojo::app::Action::PracticeRan {
        purpose,
        result: Ok(run),
    });
    let shown = a.practice.shown_run.as_ref().expect("the run is shown");
    assert_eq!(shown.runtime, Runtime::Tokio);
    assert_eq!(a.message, Some(note));
}
