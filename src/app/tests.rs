//! `update` as a pure function: key → action → state.

use super::*;
use crate::demo::{Clock, Registry, RunRequest};

fn epoch() -> crate::progress::Moment {
    crate::progress::Moment::utc(chrono::DateTime::UNIX_EPOCH)
}

/// Enter on a prediction, then what the edge does with the effect: run its demo and score it.
fn submit_prediction(
    a: &mut App,
) -> (
    crate::practice::ItemKey,
    String,
    crate::practice::PredictScore,
) {
    let Effect::ScorePredict { key, typed } = a.update(Action::Open) else {
        panic!("Enter asks the edge to run the demo");
    };
    let item = key
        .resolve(&a.lessons)
        .and_then(|(_, i)| i)
        .expect("item")
        .clone();
    let run = crate::practice::run_predict(&item).expect("virtual run");
    let score = crate::practice::score_predict_item(&item, &typed, &run.measured).expect("score");
    (key, typed, score)
}

fn app() -> App {
    App::new(
        crate::lesson::load_dir(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/valid")),
            &Registry,
        )
        .expect("fixture lessons"),
        true,
    )
}

#[test]
fn enter_opens_the_selected_lesson_and_esc_goes_back() {
    let mut a = app();
    assert_eq!(a.screen, Screen::Browser);
    assert!(matches!(a.update(Action::Open), Effect::None));
    assert_eq!(a.screen, Screen::Lesson);
    assert_eq!(a.focus(), Pane::Text);
    assert_eq!(a.current_lesson().map(|l| l.label()), Some("Q1".into()));
    let _ = a.update(Action::Back);
    assert_eq!(a.screen, Screen::Browser);
    assert!(a.lesson.is_none());
}

#[test]
fn the_filter_narrows_the_list_and_esc_clears_it() {
    let mut a = app();
    let _ = a.update(Action::StartFilter);
    for c in "zzz".chars() {
        let _ = a.update(Action::Char(c));
    }
    assert!(a.filtered().is_empty());
    let _ = a.update(Action::Backspace);
    let _ = a.update(Action::Back);
    assert_eq!(a.browser.filter, "");
    assert_eq!(a.filtered().len(), 1);
    let _ = a.update(Action::StartFilter);
    for c in "sync".chars() {
        let _ = a.update(Action::Char(c));
    }
    assert_eq!(a.filtered().len(), 1, "matches the title");
}

#[test]
fn tab_cycles_the_lesson_panes() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let mut seen = vec![a.focus()];
    for _ in 0..4 {
        let _ = a.update(Action::NextPane);
        seen.push(a.focus());
    }
    assert_eq!(
        seen,
        [
            Pane::Text,
            Pane::Code,
            Pane::Timeline,
            Pane::Params,
            Pane::Text
        ]
    );
    let _ = a.update(Action::PrevPane);
    assert_eq!(a.focus(), Pane::Params);
}

#[test]
fn p_switches_python_rust_and_the_demo_source() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let code = |a: &App| a.lesson.as_ref().map(|v| v.code);
    assert_eq!(code(&a), Some(CodeView::Python));
    let _ = a.update(Action::ToggleLanguage);
    assert_eq!(code(&a), Some(CodeView::Rust));
    let _ = a.update(Action::ToggleLanguage);
    assert_eq!(code(&a), Some(CodeView::DemoSource));
    let _ = a.update(Action::ToggleLanguage);
    assert_eq!(code(&a), Some(CodeView::Python));
}

#[test]
fn r_asks_for_a_run_of_the_picked_variant_with_the_lesson_parameters() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let Effect::StartRun(req) = a.update(Action::Run) else {
        panic!("r starts a run");
    };
    assert_eq!(req.demo.spec().id, "gather");
    assert_eq!(req.variants, ["sequential"]);
    assert_eq!(
        req.params
            .get("latencies_ms")
            .map(ToString::to_string)
            .as_deref(),
        Some("100,200,300")
    );
    assert_eq!(req.clock, Clock::Real);
    assert_eq!(
        a.lesson.as_ref().map(|v| v.run.status),
        Some(RunStatus::Running)
    );
    // A second r while running does not start another, and says why while the run goes.
    assert!(matches!(a.update(Action::Run), Effect::None));
    assert_eq!(a.message.as_deref(), Some(lesson_screen::RUN_GOING));
    let _ = a.update(Action::DemoFinished {
        runs: Vec::new(),
        error: Some(crate::demo::RunError::Cancelled),
    });
    assert_eq!(a.message, None, "the run ended: the message is stale");
    assert!(matches!(a.update(Action::Run), Effect::StartRun(_)));
    // The first Esc while running only stops the run, as s does; the next one leaves.
    assert!(matches!(a.update(Action::Back), Effect::CancelRun));
    assert_eq!(a.screen, Screen::Lesson);
    let _ = a.update(Action::DemoFinished {
        runs: Vec::new(),
        error: Some(crate::demo::RunError::Cancelled),
    });
    assert!(matches!(a.update(Action::Back), Effect::None));
    assert_eq!(a.screen, Screen::Browser);
}

#[test]
fn the_filter_finds_a_lesson_by_its_demo_and_the_apis_it_maps() {
    let mut a = App::new(crate::lesson::load_embedded(&Registry), true);
    let _ = a.update(Action::StartFilter);
    for c in "gather".chars() {
        let _ = a.update(Action::Char(c));
    }
    let found: Vec<String> = a.filtered().iter().map(|&i| a.lessons[i].label()).collect();
    assert!(
        found.contains(&"Q1".to_owned()),
        "Q1 runs the gather demo: {found:?}"
    );
}

#[test]
fn c_compares_the_picked_variants() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let Effect::StartRun(req) = a.update(Action::Compare) else {
        panic!("c starts a run");
    };
    assert_eq!(req.variants, ["sequential", "join-all"]);
}

#[test]
fn parameters_change_with_plus_and_minus_within_their_range() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Click {
        pane: Pane::Params,
        row: None,
    });
    let value = |a: &App| {
        a.lesson
            .as_ref()
            .and_then(|v| v.demo.as_ref())
            .and_then(|d| d.params.get("latencies_ms"))
            .map(ToString::to_string)
    };
    let _ = a.update(Action::Increase);
    assert_eq!(value(&a).as_deref(), Some("100,200,300,300"));
    let _ = a.update(Action::Decrease);
    let _ = a.update(Action::Decrease);
    let _ = a.update(Action::Decrease);
    assert_eq!(value(&a).as_deref(), Some("100"));
    let _ = a.update(Action::Decrease);
    assert_eq!(
        value(&a).as_deref(),
        Some("100"),
        "a list keeps at least one item"
    );
    // Down to the variants row: → moves along it, Space unticks the one under the cursor.
    let _ = a.update(Action::Down);
    let _ = a.update(Action::Decrease);
    assert_eq!(
        value(&a).as_deref(),
        Some("100"),
        "← on the variants row moves"
    );
    let picked = |a: &App| {
        a.lesson
            .as_ref()
            .and_then(|v| v.demo.as_ref())
            .map(|d| d.variants.clone())
    };
    assert_eq!(
        picked(&a),
        Some(vec![
            ("sequential", true),
            ("join-all", true),
            ("join-set", false)
        ]),
        "moving does not tick"
    );
    let _ = a.update(Action::Increase);
    let _ = a.update(Action::ToggleVariant);
    assert_eq!(
        picked(&a),
        Some(vec![
            ("sequential", true),
            ("join-all", false),
            ("join-set", false)
        ])
    );
    // G (End) and g (Home) move between the first and the last row, changing nothing.
    let _ = a.update(Action::Home);
    let _ = a.update(Action::End);
    let _ = a.update(Action::Right);
    assert_eq!(
        value(&a).as_deref(),
        Some("100"),
        "→ after G moves along the variants"
    );
    let _ = a.update(Action::Home);
    let _ = a.update(Action::Right);
    assert_eq!(
        value(&a).as_deref(),
        Some("100,100"),
        "→ after g steps the first parameter"
    );
}

#[test]
fn r_runs_the_variant_under_the_cursor_and_c_exactly_the_ticked_ones() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Click {
        pane: Pane::Params,
        row: None,
    });
    let _ = a.update(Action::End);
    let _ = a.update(Action::Right);
    let _ = a.update(Action::Right); // join-set, not ticked
    let Effect::StartRun(req) = a.update(Action::Run) else {
        panic!("r starts a run");
    };
    assert_eq!(req.variants, ["join-set"], "the variant under the cursor");
    let _ = a.update(Action::DemoFinished {
        runs: Vec::new(),
        error: None,
    });
    // Untick join-all: one ticked variant compares as one, not as all of them.
    let _ = a.update(Action::Click {
        pane: Pane::Params,
        row: None,
    });
    let _ = a.update(Action::Left);
    let _ = a.update(Action::ToggleVariant);
    let Effect::StartRun(req) = a.update(Action::Compare) else {
        panic!("c starts a run");
    };
    assert_eq!(req.variants, ["sequential"]);
    let _ = a.update(Action::DemoFinished {
        runs: Vec::new(),
        error: None,
    });
    let _ = a.update(Action::Click {
        pane: Pane::Params,
        row: None,
    });
    let _ = a.update(Action::Left);
    let _ = a.update(Action::ToggleVariant);
    assert!(
        matches!(a.update(Action::Compare), Effect::None),
        "nothing ticked, nothing compared"
    );
    assert!(a.message.as_deref().is_some_and(|m| m.contains("ticked")));
}

#[test]
fn a_finished_run_can_be_scrubbed_event_by_event() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Run);
    let req = RunRequest::build("gather", &["join-all".into()], &[], Clock::Virtual).expect("req");
    let report = crate::demo::runner::run_blocking(req).expect("run");
    let runs = crate::demo::run::Run::from_report(report, crate::demo::asyncio::Runtime::Tokio);
    let _ = a.update(Action::DemoFinished { runs, error: None });
    let cursor = |a: &App| a.lesson.as_ref().and_then(|v| v.run.cursor_ms);
    assert_eq!(a.focus(), Pane::Timeline);
    assert_eq!(cursor(&a), Some(0.0));
    // ← / → step one event at a time: past every event at 0 ms, then to the first at 100 ms.
    let mut steps = 0;
    while cursor(&a) == Some(0.0) {
        let _ = a.update(Action::Right);
        steps += 1;
        assert!(steps < 100, "the cursor leaves 0 ms");
    }
    assert!(steps > 1, "several things happen at 0 ms, one step each");
    assert_eq!(cursor(&a), Some(100.0));
    let _ = a.update(Action::Left);
    assert_eq!(cursor(&a), Some(0.0));
    let _ = a.update(Action::End);
    assert_eq!(cursor(&a), Some(300.0));
    let _ = a.update(Action::ZoomIn);
    assert_eq!(
        a.lesson.as_ref().and_then(|v| v.run.window),
        Some((150.0, 300.0))
    );
    let _ = a.update(Action::ZoomOut);
    assert_eq!(a.lesson.as_ref().and_then(|v| v.run.window), None);
}

#[test]
fn w_steps_the_cursor_back_along_the_cause_chain() {
    use crate::demo::timeline::index::EventKind;
    use crate::demo::timeline::{Outcome, TaskRecord, TimelineSnapshot, Wake, WakeCause};
    let task = |id: u32, name: &str, seqs: Vec<u64>| TaskRecord {
        file: None,
        id,
        name: name.into(),
        parent: None,
        spawned_ms: 0.0,
        finished_ms: Some(100.0),
        outcome: Outcome::Ok,
        detail: String::new(),
        polls: vec![(0.0, 0.0), (100.0, 100.0)],
        seqs,
        line: None,
    };
    // At 100 ms the timer wakes "holder", which releases a permit and so wakes "waiter".
    let snap = TimelineSnapshot {
        tasks: vec![
            task(1, "holder", vec![0, 1, 5, 7]),
            task(2, "waiter", vec![2, 3, 8, 9]),
        ],
        wakes: vec![
            Wake {
                seq: 4,
                t_ms: 100.0,
                task: 1,
                cause: WakeCause::Timer,
                by: None,
                line: None,
            },
            Wake {
                seq: 6,
                t_ms: 100.0,
                task: 2,
                cause: WakeCause::Task,
                by: Some(1),
                line: Some(12),
            },
        ],
        now_ms: 100.0,
        ..TimelineSnapshot::default()
    };
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Run);
    let runs = vec![crate::demo::run::Run::stand_in("v", snap, 100.0)];
    let _ = a.update(Action::DemoFinished { runs, error: None });
    let at = |a: &App| {
        let run = &a.lesson.as_ref().expect("a lesson").run;
        run.cursor_event().map(|e| (e.task, e.kind))
    };
    // The cursor on the waiter's poll at 100 ms.
    while at(&a) != Some((Some(2), EventKind::Poll { nth: 1 })) {
        let _ = a.update(Action::Right);
    }
    let _ = a.update(Action::CauseBack);
    assert_eq!(
        at(&a),
        Some((Some(2), EventKind::Wake { wake: 1 })),
        "its wake"
    );
    let _ = a.update(Action::CauseBack);
    assert_eq!(
        at(&a),
        Some((Some(1), EventKind::Poll { nth: 1 })),
        "the holder, polled when it woke the waiter"
    );
    let _ = a.update(Action::CauseBack);
    assert_eq!(
        at(&a),
        Some((Some(1), EventKind::Wake { wake: 0 })),
        "the timer woke it"
    );
    let _ = a.update(Action::CauseBack);
    assert_eq!(
        at(&a),
        Some((Some(1), EventKind::Poll { nth: 0 })),
        "where it began to wait"
    );
    let _ = a.update(Action::CauseBack);
    assert_eq!(
        at(&a),
        Some((Some(1), EventKind::Poll { nth: 0 })),
        "its first poll needed no wake: the chain ends"
    );
}

#[test]
fn help_opens_and_any_documented_key_closes_it() {
    let mut a = app();
    let _ = a.update(Action::ToggleHelp);
    assert!(a.show_help);
    let _ = a.update(Action::Down);
    assert!(a.show_help, "other keys are swallowed while help shows");
    let _ = a.update(Action::Back);
    assert!(!a.show_help);
}

#[test]
fn q_and_ctrl_c_quit_with_the_help_open() {
    let mut a = app();
    let _ = a.update(Action::ToggleHelp);
    assert!(a.show_help);
    // `q` and Ctrl-C are both `Quit` (see keymap::action_for).
    assert!(matches!(a.update(Action::Quit), Effect::Quit));
    let _ = a.update(Action::Back);
    assert!(!a.show_help, "Esc closes it");
    let _ = a.update(Action::Open);
    let _ = a.update(Action::ToggleHelp);
    assert!(a.show_help && a.screen == Screen::Lesson);
    assert!(matches!(a.update(Action::Quit), Effect::Quit));
}

#[test]
fn q_quits_from_anywhere() {
    let mut a = app();
    assert!(matches!(a.update(Action::Quit), Effect::Quit));
    let _ = a.update(Action::Open);
    assert!(matches!(a.update(Action::Quit), Effect::Quit));
}

#[test]
fn a_lesson_quiz_scores_answers_and_records_progress() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::StartQuiz);
    assert_eq!(a.screen, Screen::Practice);
    assert_eq!(a.focus(), Pane::Practice);
    // Item 1 of the fixture is a prediction: typing goes to the answer box.
    assert!(a.takes_text());
    for c in "300".chars() {
        let _ = a.update(Action::Char(c));
    }
    let (key, typed, score) = submit_prediction(&mut a);
    assert_eq!(typed, "300");
    assert!(score.within_tolerance, "300 ms is the measured total");
    let before = a.progress_version;
    let _ = a.update(Action::PredictScored {
        key: key.clone(),
        result: Ok(score),
    });
    assert!(a.progress_version > before, "a scored answer is saved");
    assert!(a.progress.item(&key).is_some());
    // Next: the second prediction, which names a task: showing it asks for the tasks it can
    // name, and the edge answers with a run.
    let Effect::RunPractice {
        purpose, request, ..
    } = a.update(Action::Open)
    else {
        panic!("a \"which finishes first\" item lists its tasks")
    };
    let result = crate::practice::evidence::run_shown(request).map_err(|e| e.to_string());
    let _ = a.update(Action::PracticeRan { purpose, result });
    // A name that is none of them is not scored; a wrong one is.
    for c in "request 9".chars() {
        let _ = a.update(Action::Char(c));
    }
    assert!(matches!(a.update(Action::Open), Effect::None));
    assert!(
        a.message
            .as_deref()
            .is_some_and(|m| m.contains("none of the tasks"))
    );
    let _ = a.update(Action::Backspace);
    let _ = a.update(Action::Char('1'));
    let (key, typed, score) = submit_prediction(&mut a);
    assert_eq!(typed, "request 1");
    assert!(!score.within_tolerance, "request 2 finishes first");
    let _ = a.update(Action::PredictScored {
        key,
        result: Ok(score),
    });
    // Third: multiple choice, answered with the digit of the right option.
    let _ = a.update(Action::Open);
    assert!(!a.takes_text());
    let _ = a.update(Action::Char('2'));
    let _ = a.update(Action::Open);
    let Some(practice::PracticeView::Quiz(q)) = &a.practice.view else {
        panic!()
    };
    assert!(matches!(&q.state, practice::ItemState::Choice { result: Some(r), .. } if r.correct));
    // Fourth: spot the bug. Line 4 is the bug; mark it and check.
    let _ = a.update(Action::Open);
    for _ in 0..3 {
        let _ = a.update(Action::Down);
    }
    let _ = a.update(Action::ToggleVariant);
    let _ = a.update(Action::Open);
    let Some(practice::PracticeView::Quiz(q)) = &a.practice.view else {
        panic!()
    };
    let practice::ItemState::Spot {
        result: Some(r), ..
    } = &q.state
    else {
        panic!("scored")
    };
    assert_eq!((r.found, r.false_marks.len()), (1, 0));
    assert_eq!(q.tally.len(), 4);
    // Past the last item, the summary; then back to the lesson, and the browser mark reflects
    // the answers.
    let _ = a.update(Action::Open);
    assert!(matches!(
        &a.practice.view,
        Some(practice::PracticeView::QuizDone(s)) if s.answered() == 4
    ));
    let _ = a.update(Action::Open);
    assert_eq!(a.screen, Screen::Lesson);
    assert_ne!(a.marks[0].0, ' ');
}

#[test]
fn the_mock_interview_runs_through_update_with_time_passed_in() {
    use std::time::Duration;
    let mut a = app();
    let _ = a.update(Action::StartInterview);
    assert_eq!(a.screen, Screen::Practice);
    let interview = |a: &App| match &a.practice.view {
        Some(practice::PracticeView::Interview(i)) => Some(i.clone()),
        _ => None,
    };
    assert_eq!(
        interview(&a).map(|i| i.questions().len()),
        Some(1),
        "one lesson in the fixture"
    );
    let _ = a.update(Action::Tick {
        at: Duration::from_secs(10),
        now: epoch(),
    });
    let _ = a.update(Action::Open);
    assert!(a.needs_ticks(), "the countdown runs");
    assert!(a.takes_text(), "notes while answering");
    for c in "gather".chars() {
        let _ = a.update(Action::Char(c));
    }
    let _ = a.update(Action::Tick {
        at: Duration::from_secs(70),
        now: epoch(),
    });
    let remaining = interview(&a).and_then(|i| i.remaining(Duration::from_secs(70)));
    assert_eq!(remaining, Some(Duration::from_secs(120)));
    // The countdown runs out at 190 s: the answer is revealed by the tick.
    let _ = a.update(Action::Tick {
        at: Duration::from_secs(191),
        now: epoch(),
    });
    assert!(matches!(
        interview(&a).map(|i| i.phase()),
        Some(crate::practice::Phase::Revealed {
            timed_out: true,
            ..
        })
    ));
    let _ = a.update(Action::Char('3'));
    let Some(practice::PracticeView::Summary(s)) = &a.practice.view else {
        panic!("the last grade ends the interview");
    };
    assert_eq!(s.answers.len(), 1);
    assert_eq!(s.answers[0].grade, Some(crate::practice::Grade::Good));
    assert_eq!(s.answers[0].notes, "gather");
    assert!(a.progress_version > 0);
    let _ = a.update(Action::Back);
    assert_eq!(a.screen, Screen::Browser);
}

#[test]
fn review_with_nothing_due_offers_new_items_and_says_so_when_empty() {
    let mut a = app();
    let _ = a.update(Action::StartReview);
    assert_eq!(
        a.screen,
        Screen::Practice,
        "never-answered items are offered"
    );
    let mut empty = App::new(LessonSet::default(), true);
    let _ = empty.update(Action::StartReview);
    assert_eq!(empty.screen, Screen::Browser);
    assert!(
        empty
            .message
            .as_deref()
            .is_some_and(|m| m.contains("nothing to review"))
    );
}

/// A review (R) of a due interview question and the new quiz items: the question is recalled,
/// its model answer shown and graded with 3 (Good), the items skipped, and the review ends on
/// the quiz summary.
#[test]
fn a_review_grades_a_recalled_question_with_a_digit_and_ends_on_its_summary() {
    let mut a = app();
    let question = crate::practice::ItemKey::interview(&a.lessons[0].id);
    crate::practice::record_self_grade(
        &mut a.progress,
        &question,
        crate::practice::Grade::Again,
        &epoch(),
    );
    let later = crate::progress::Moment::utc(chrono::DateTime::UNIX_EPOCH + chrono::Days::new(30));
    let _ = a.update(Action::Tick {
        at: std::time::Duration::from_secs(1),
        now: later,
    });
    let _ = a.update(Action::StartReview);
    let mut graded = false;
    for _ in 0..40 {
        let Some(practice::PracticeView::Quiz(q)) = &a.practice.view else {
            break;
        };
        let action = match &q.state {
            practice::ItemState::Recall {
                revealed: false, ..
            } => Action::Open,
            practice::ItemState::Recall {
                revealed: true,
                graded: None,
            } => {
                graded = true;
                Action::Char('3')
            }
            practice::ItemState::Recall { .. } => Action::Open,
            practice::ItemState::Predict { .. } => Action::Char(' '),
            _ => Action::Cancel,
        };
        let _ = a.update(action);
    }
    assert!(graded, "the due question was in the review");
    let Some(practice::PracticeView::QuizDone(s)) = &a.practice.view else {
        panic!("the review ends on its summary: {:?}", a.practice.view);
    };
    assert!(s.title.starts_with("Review"), "{}", s.title);
    assert_eq!((s.right, s.skipped + 1), (1, s.items), "3 graded it Good");
    let _ = a.update(Action::Open);
    assert_eq!(a.screen, Screen::Browser);
}

#[test]
fn news_from_the_edge_are_actions_and_the_next_key_clears_the_message() {
    let mut a = app();
    let _ = a.update(Action::ConsoleServing("127.0.0.1:6669".into()));
    let _ = a.update(Action::ConsoleClients(2));
    assert_eq!(a.console, Some(("127.0.0.1:6669".into(), 2)));
    let _ = a.update(Action::ToggleHelp);
    let _ = a.update(Action::Notify("cannot save progress".into()));
    assert!(a.show_help, "news does not close the help");
    assert_eq!(a.message.as_deref(), Some("cannot save progress"));
    let _ = a.update(Action::ConsoleClients(1));
    let _ = a.update(Action::Tick {
        at: std::time::Duration::from_secs(1),
        now: epoch(),
    });
    assert!(a.message.is_some(), "news and ticks leave the message");
    let _ = a.update(Action::Back);
    assert_eq!(a.message, None, "a key clears it");
}

#[test]
fn a_run_the_edge_could_not_start_leaves_the_timeline_ready_for_another() {
    let mut a = app();
    let _ = a.update(Action::Open);
    assert!(matches!(a.update(Action::Run), Effect::StartRun(_)));
    let _ = a.update(Action::RunNotStarted(
        "could not start the demo: no threads".into(),
    ));
    assert_eq!(
        a.lesson.as_ref().map(|v| v.run.status),
        Some(RunStatus::Idle)
    );
    assert!(
        a.message
            .as_deref()
            .is_some_and(|m| m.contains("no threads"))
    );
    assert!(matches!(a.update(Action::Run), Effect::StartRun(_)));
}

mod link;
mod preference;
mod twin;

#[test]
fn each_answer_is_stamped_with_the_time_it_was_given() {
    use chrono::TimeZone;
    let at = |h, m| {
        crate::progress::Moment::utc(chrono::Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap())
    };
    let mut a = app().with_progress(crate::progress::Progress::default(), at(9, 0));
    let _ = a.update(Action::Open);
    let _ = a.update(Action::StartQuiz);
    let _ = a.update(Action::Tick {
        at: std::time::Duration::from_secs(300),
        now: at(9, 5),
    });
    for c in "300".chars() {
        let _ = a.update(Action::Char(c));
    }
    let (key, _, score) = submit_prediction(&mut a);
    // The scored result arrives later, after the edge told the time again.
    let _ = a.update(Action::Tick {
        at: std::time::Duration::from_secs(310),
        now: at(9, 7),
    });
    let _ = a.update(Action::PredictScored {
        key: key.clone(),
        result: Ok(score),
    });
    let attempt = a
        .progress
        .item(&key)
        .and_then(|p| p.last())
        .expect("the answer is recorded")
        .clone();
    assert_eq!(
        attempt.at,
        at(9, 7).at,
        "stamped when given, not at start (9:00)"
    );
}

#[test]
fn the_browser_marks_follow_the_clock_as_items_fall_due() {
    use chrono::TimeZone;
    let at = |d, h| {
        crate::progress::Moment::utc(chrono::Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap())
    };
    let mut a = app().with_progress(crate::progress::Progress::default(), at(7, 9));
    let _ = a.update(Action::Open);
    let _ = a.update(Action::StartQuiz);
    // Answer the fixture's first item (a prediction) right: it is due again in a day or more.
    for c in "300".chars() {
        let _ = a.update(Action::Char(c));
    }
    let (key, _, score) = submit_prediction(&mut a);
    let _ = a.update(Action::PredictScored {
        key,
        result: Ok(score),
    });
    let due_then = a.due_count();
    let _ = a.update(Action::Tick {
        at: std::time::Duration::from_secs(60),
        now: at(30, 9),
    });
    assert!(
        a.due_count() > due_then,
        "weeks later the answered item is due again ({due_then} before)"
    );
}

#[test]
fn d_says_which_demo_of_how_many_is_now_shown() {
    let set = crate::lesson::load_embedded(&Registry);
    let mut a = App::new(set, true);
    let q5 = a
        .lessons
        .iter()
        .position(|l| l.demos.len() > 1)
        .expect("a lesson with several demos");
    let n = a.lessons[q5].demos.len();
    a.open_lesson(q5);
    let _ = a.update(Action::NextDemo);
    let said = a.message.clone().unwrap_or_default();
    assert!(said.starts_with(&format!("demo 2/{n}: ")), "{said}");
}
