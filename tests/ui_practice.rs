//! The practice screen drawn whole, on the shipped lessons: quiz items, their reveals and the mock
//! interview, at the sizes people use.

use asyncdojo::app::practice::{self, PracticeView};
use asyncdojo::app::practice_screen::ShownRunState;
use asyncdojo::app::{Action, App, Effect, Screen};
use asyncdojo::demo::Registry;
use asyncdojo::practice::evidence::{run_shown, run_shown_on, score_with_run};
use asyncdojo::practice::{InterviewConfig, ItemKey, Question, RunPurpose};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app() -> App {
    App::new(asyncdojo::lesson::load_embedded(&Registry), true)
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| asyncdojo::ui::render(app, f))
        .expect("draw");
    terminal.backend().to_string()
}

/// Does what the app asked, as the terminal loop's workers do, and feeds the answers back.
fn perform(app: &mut App, effect: Effect) {
    match effect {
        Effect::ScorePredict { key, typed } => {
            let item = key
                .resolve(&app.lessons)
                .and_then(|(_, item)| item)
                .expect("the item")
                .clone();
            let (result, run) = match score_with_run(&item, &typed) {
                Ok(scored) => (Ok(scored.score), Some(scored.run)),
                Err(e) => (Err(e.to_string()), None),
            };
            let _ = app.update(Action::PredictScored {
                key: key.clone(),
                result,
            });
            if let Some(run) = run {
                let _ = app.update(Action::PracticeRan {
                    purpose: RunPurpose::Predict(key),
                    result: Ok(run),
                });
            }
        }
        Effect::RunPractice {
            purpose,
            request,
            runtime,
        } => {
            let result = run_shown_on(request, runtime).map_err(|e| e.to_string());
            let _ = app.update(Action::PracticeRan { purpose, result });
        }
        _ => {}
    }
}

/// Type `text`, doing what each key asks (the first one, on a "which finishes first" item, lists
/// the tasks it can name).
fn type_in(app: &mut App, text: &str) {
    for c in text.chars() {
        let effect = app.update(Action::Char(c));
        perform(app, effect);
    }
}

/// The screen's text with the frame and padding taken out, so wrapped text reads as one string.
fn words(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '"' || c == '│' || c.is_whitespace()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn lesson_id(app: &App, name: &str) -> asyncdojo::lesson::LessonId {
    app.lessons
        .iter()
        .find(|l| l.is_named_by(name))
        .map(|l| l.id.clone())
        .unwrap_or_else(|| panic!("{name} ships"))
}

/// A quiz over the given items of one lesson, as `Q` would start it.
fn quiz(app: &mut App, lesson: &str, items: &[&str]) {
    let id = lesson_id(app, lesson);
    let keys = items.iter().map(|i| ItemKey::quiz(&id, i)).collect();
    let q = practice::start_quiz("Quiz".into(), keys, &app.lessons).expect("items exist");
    app.practice.view = Some(PracticeView::Quiz(q));
    app.screen = Screen::Practice;
}

/// A one-question interview on `lesson`, untimed.
fn interview(app: &mut App, lesson: &str) {
    let id = lesson_id(app, lesson);
    let i = asyncdojo::practice::Interview::with_questions(
        vec![Question {
            lesson: id,
            reason: asyncdojo::practice::PickReason::New,
            weight: 1.0,
        }],
        InterviewConfig {
            questions: 1,
            seconds_per_question: 0,
            seed: 0,
        },
    );
    app.practice.view = Some(PracticeView::Interview(i));
    app.screen = Screen::Practice;
}

#[test]
fn an_explanation_keeps_the_spaces_at_its_line_breaks() {
    let mut a = app();
    quiz(&mut a, "q1", &["parallel-or-not"]);
    let _ = a.update(Action::Char('1'));
    let _ = a.update(Action::Open);
    let text = words(&screen(&a, 160, 48));
    assert!(
        text.contains("Pure CPU work never awaits"),
        "Q1's explanation: {text}"
    );
}

#[test]
fn the_interview_question_keeps_the_spaces_at_its_line_breaks() {
    let mut a = app();
    interview(&mut a, "c1");
    let text = words(&screen(&a, 160, 48));
    assert!(
        text.contains("and that stays correct"),
        "C1's question: {text}"
    );
}

/// Q1's sequential total, guessed at 300 ms; the run measures 400.
fn predict_revealed() -> App {
    let mut a = app();
    quiz(&mut a, "q1", &["sequential-total"]);
    type_in(&mut a, "300");
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    a
}

#[test]
fn predict_reveal_80x24() {
    insta::assert_snapshot!(screen(&predict_revealed(), 80, 24));
}

#[test]
fn predict_reveal_120x40() {
    insta::assert_snapshot!(screen(&predict_revealed(), 120, 40));
}

#[test]
fn predict_reveal_160x48() {
    insta::assert_snapshot!(screen(&predict_revealed(), 160, 48));
}

/// Q2's report task that freezes the ticker, its bug found; the evidence runs on the virtual clock.
fn spot_revealed() -> App {
    let mut a = app();
    quiz(&mut a, "q2", &["spot-thread-sleep"]);
    for _ in 0..11 {
        let _ = a.update(Action::Down);
    }
    let _ = a.update(Action::ToggleVariant);
    let effect = a.update(Action::Open);
    assert!(
        matches!(effect, Effect::RunPractice { .. }),
        "checking the answer asks for the evidence run"
    );
    perform(&mut a, effect);
    a
}

#[test]
fn spot_the_bug_reveal_80x24() {
    insta::assert_snapshot!(screen(&spot_revealed(), 80, 24));
}

#[test]
fn spot_the_bug_reveal_120x40() {
    insta::assert_snapshot!(screen(&spot_revealed(), 120, 40));
}

#[test]
fn spot_the_bug_reveal_160x48() {
    insta::assert_snapshot!(screen(&spot_revealed(), 160, 48));
}

/// Q4's interview question revealed: its demo (await, spawn, abort) runs on one axis.
fn interview_revealed() -> App {
    let mut a = app();
    interview(&mut a, "q4");
    let _ = a.update(Action::Open);
    let effect = a.update(Action::Open);
    assert!(
        matches!(effect, Effect::RunPractice { .. }),
        "the reveal asks for the lesson's demo"
    );
    perform(&mut a, effect);
    a
}

#[test]
fn interview_reveal_80x24() {
    insta::assert_snapshot!(screen(&interview_revealed(), 80, 24));
}

/// At 80×24 the demo is a line under the model answer; Tab shows it instead, and back.
#[test]
fn interview_reveal_demo_80x24() {
    let mut a = interview_revealed();
    let answer = screen(&a, 80, 24);
    let rows = answer.lines().collect::<Vec<_>>();
    assert!(
        rows[rows.len() - 3].contains("Tab: the demo · asyncio: ① · await 400 ms"),
        "the demo's totals on the last row:\n{answer}"
    );
    let _ = a.update(Action::NextPane);
    let demo = screen(&a, 80, 24);
    assert!(demo.contains("Tab: back to the model answer"), "{demo}");
    assert!(
        !demo.contains("A coroutine is a paused computation"),
        "{demo}"
    );
    insta::assert_snapshot!(demo);
    let _ = a.update(Action::NextPane);
    assert_eq!(screen(&a, 80, 24), answer, "Tab again: the answer");
}

#[test]
fn interview_reveal_160x48() {
    insta::assert_snapshot!(screen(&interview_revealed(), 160, 48));
}

fn shown_view(app: &App) -> &asyncdojo::app::RunView {
    match app.practice.shown_run.as_ref().map(|r| &r.state) {
        Some(ShownRunState::Done { view, .. }) => view,
        other => panic!("no finished run shown: {other:?}"),
    }
}

#[test]
fn a_guessed_task_is_marked_on_its_lane() {
    let mut a = app();
    quiz(&mut a, "q1", &["first-done"]);
    type_in(&mut a, "request 1");
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    let lanes: Vec<String> = shown_view(&a)
        .snapshot()
        .expect("the run")
        .tasks
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert!(lanes.contains(&"▸ request 1".to_owned()), "{lanes:?}");
    assert!(lanes.contains(&"  request 2".to_owned()), "{lanes:?}");
    let text = screen(&a, 120, 40);
    assert!(text.contains("your guess ▸ request 1 · first to finish: request 2"));
    assert!(text.contains("▸ request 1"), "{text}");
}

#[test]
fn a_guess_past_the_end_of_the_run_widens_the_axis_to_show_it() {
    let mut a = app();
    quiz(&mut a, "q1", &["sequential-total"]);
    type_in(&mut a, "1s");
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    let view = shown_view(&a);
    assert_eq!(view.cursor_ms, Some(1000.0), "the guess is the time cursor");
    assert_eq!(view.window, Some((0.0, 1000.0)));
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("your guess ▲ 1000 ms · measured 400 ms"),
        "{text}"
    );
    assert!(text.contains('▲'));
}

#[test]
fn a_run_that_comes_back_for_an_item_no_longer_shown_is_dropped() {
    let mut a = app();
    quiz(&mut a, "q2", &["spot-thread-sleep", "spot-cpu-loop"]);
    let _ = a.update(Action::ToggleVariant);
    let effect = a.update(Action::Open);
    let Effect::RunPractice {
        purpose, request, ..
    } = effect
    else {
        panic!("the evidence run is asked for")
    };
    assert!(matches!(
        a.practice.shown_run.as_ref().map(|r| &r.state),
        Some(ShownRunState::Running)
    ));
    assert!(screen(&a, 80, 24).contains("running blocking on the virtual clock…"));
    // On to the next item before the run is back: its answer has nowhere to go.
    let _ = a.update(Action::Open);
    assert!(a.practice.shown_run.is_none());
    let result = run_shown(request).map_err(|e| e.to_string());
    let _ = a.update(Action::PracticeRan { purpose, result });
    assert!(a.practice.shown_run.is_none(), "a stale run is not shown");
}

#[test]
fn a_prediction_that_could_not_be_scored_stops_waiting_for_its_run() {
    let mut a = app();
    quiz(&mut a, "q1", &["sequential-total"]);
    type_in(&mut a, "soon");
    let effect = a.update(Action::Open);
    assert!(a.practice.shown_run.is_some(), "the run is on its way");
    perform(&mut a, effect);
    assert!(a.practice.shown_run.is_none());
    assert!(screen(&a, 80, 24).contains("is not a number"));
}

#[test]
fn arrows_scroll_the_lanes_of_a_shown_run() {
    let mut a = spot_revealed();
    assert_eq!(shown_view(&a).lane_scroll, 0);
    assert!(screen(&a, 80, 20).contains("▸ bug · blocking"));
    let _ = a.update(Action::Down);
    let _ = a.update(Action::Down);
    let _ = a.update(Action::Up);
    assert_eq!(shown_view(&a).lane_scroll, 1);
    // At 80×20 the two runs' rows do not all fit: scrolled by one, the bug's header is out of
    // sight and its first lane is the top row.
    let text = screen(&a, 80, 20);
    assert!(!text.contains("▸ bug · blocking"), "{text}");
    assert!(text.contains("main"), "{text}");
}

/// C1's interview question revealed, its demo's run still on its way: the model answer is far
/// longer than an 80×24 screen.
fn long_reveal() -> App {
    let mut a = app();
    interview(&mut a, "c1");
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Open);
    a
}

/// The text rows shown, in order, without the frame: what a scroll moves.
fn text_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(1)
        .map(words)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn a_long_reveal_scrolls_to_its_last_row_and_back() {
    let mut a = long_reveal();
    let top = screen(&a, 80, 24);
    assert!(
        top.contains("PgDn:"),
        "the title says there is more below:\n{top}"
    );
    assert!(!top.contains("PgUp"), "nothing above yet:\n{top}");
    // PgDn until the title says nothing is left below, as a reader would.
    let mut presses = 0;
    let end = loop {
        let _ = a.update(Action::PageDown);
        presses += 1;
        let s = screen(&a, 80, 24);
        if !s.contains("PgDn") {
            break s;
        }
        assert!(presses < 50, "never reached the end:\n{s}");
    };
    assert!(
        end.contains("PgUp"),
        "at the end the title offers the way back:\n{end}"
    );
    assert_ne!(text_rows(&top), text_rows(&end), "the text moved");
    let _ = a.update(Action::PageUp);
    let back = screen(&a, 80, 24);
    assert_ne!(text_rows(&back), text_rows(&end), "PgUp moves back at once");
    assert!(back.contains("PgDn:"), "{back}");
}

#[test]
fn the_next_quiz_item_starts_at_the_top_of_its_text() {
    let mut a = app();
    quiz(&mut a, "q1", &["parallel-or-not", "first-done"]);
    let _ = a.update(Action::Open);
    let _ = a.update(Action::PageDown);
    let _ = a.update(Action::PageDown);
    assert_eq!(a.practice.scroll, 20, "PgDn moves the text ten rows");
    let _ = a.update(Action::Open);
    assert_eq!(a.practice.scroll, 0, "the next item starts at its top");
}

/// What the app does when practice first draws an item (the terminal loop sends a tick before every
/// key and result): a "which finishes first" item lists its tasks.
fn show(app: &mut App) {
    let effect = app.update(Action::Tick {
        at: std::time::Duration::ZERO,
        now: asyncdojo::progress::Moment::utc(chrono::DateTime::UNIX_EPOCH),
    });
    perform(app, effect);
}

/// Q1's "which finishes first", as shown before the answer: the tasks it can name are listed
/// (from a run of its demo, in spawn order), and the input asks for a name, not milliseconds.
fn first_done_shown() -> App {
    let mut a = app();
    quiz(&mut a, "q1", &["first-done"]);
    show(&mut a);
    a
}

#[test]
fn first_finished_prompt_80x24() {
    insta::assert_snapshot!(screen(&first_done_shown(), 80, 24));
}

#[test]
fn a_which_finishes_first_item_names_its_tasks_before_the_answer() {
    let text = words(&screen(&first_done_shown(), 80, 24));
    assert!(
        text.contains("the tasks: request 1 · request 2 · request 3"),
        "{text}"
    );
    assert!(text.contains("type a task's name, or its number"), "{text}");
    assert!(!text.contains("(ms)"), "{text}");
}

#[test]
fn a_named_task_is_right_or_wrong_not_a_percentage() {
    for (typed, verdict) in [
        ("2", "Right: request 2 finished first."),
        ("request 3", "Not this time: request 2 finished first."),
    ] {
        let mut a = first_done_shown();
        type_in(&mut a, typed);
        let effect = a.update(Action::Open);
        perform(&mut a, effect);
        let text = words(&screen(&a, 120, 40));
        assert!(text.contains(verdict), "{typed}: {text}");
        assert!(
            !text.contains("Within") && !text.contains("Outside"),
            "{text}"
        );
        assert!(!text.contains("Score"), "{text}");
    }
}

#[test]
fn a_count_is_a_plain_number_and_a_metric_is_said_in_words() {
    let mut a = app();
    quiz(&mut a, "q2", &["max-running"]);
    show(&mut a);
    let before = words(&screen(&a, 120, 40));
    assert!(before.contains("type a number ·"), "{before}");
    assert!(
        !before.contains("(ms)") && !before.contains("milliseconds"),
        "a count is not in ms: {before}"
    );
    type_in(&mut a, "2");
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    let after = words(&screen(&a, 120, 40));
    assert!(
        after.contains("measured on the virtual clock: 1 (the most tasks running at once)"),
        "{after}"
    );
    assert!(
        after.contains("your guess 2 · measured 1 (the most tasks running at once)"),
        "{after}"
    );
    assert!(!after.contains("metric:"), "{after}");
    assert!(
        !after.contains("1 ms") && !after.contains("2 ms"),
        "{after}"
    );
}

/// Q14's 33-line template, the cursor moved to its last line.
fn spot_cursor_at_the_end() -> App {
    let mut a = app();
    quiz(&mut a, "q14", &["spot-template"]);
    for _ in 0..32 {
        let _ = a.update(Action::Down);
    }
    a
}

#[test]
fn spot_the_bug_cursor_80x24() {
    insta::assert_snapshot!(screen(&spot_cursor_at_the_end(), 80, 24));
}

#[test]
fn the_view_follows_the_spot_the_bug_cursor() {
    let mut a = spot_cursor_at_the_end();
    let _ = a.update(Action::ToggleVariant);
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("● 33 "),
        "the marked last line is in view:\n{text}"
    );
    // Back to the top: the first line comes back into view.
    for _ in 0..32 {
        let _ = a.update(Action::Up);
    }
    let text = screen(&a, 80, 24);
    assert!(text.contains("   1 "), "{text}");
}

/// Q2's "from a thread" choice: Markdown in the prompt, options and explanation.
fn choice_shown() -> App {
    let mut a = app();
    quiz(&mut a, "q2", &["from-thread"]);
    show(&mut a);
    a
}

#[test]
fn choice_80x24() {
    insta::assert_snapshot!(screen(&choice_shown(), 80, 24));
}

#[test]
fn choice_answered_80x24() {
    let mut a = choice_shown();
    let _ = a.update(Action::Char('2'));
    let _ = a.update(Action::Open);
    insta::assert_snapshot!(screen(&a, 80, 24));
}

#[test]
fn markdown_in_practice_is_rendered_not_shown_raw() {
    let mut a = choice_shown();
    let before = screen(&a, 80, 24);
    assert!(before.contains("asyncio.run_coroutine_threadsafe(coro, loop)"));
    assert!(!before.contains('`'), "{before}");
    assert!(!before.contains('›'), "nothing is chosen yet:\n{before}");
    let _ = a.update(Action::Char('1'));
    let _ = a.update(Action::Open);
    let after = screen(&a, 80, 24);
    assert!(after.contains("Right."), "{after}");
    assert!(!after.contains('`'), "{after}");
}

/// The captions over a run are Markdown too: Q2's heartbeat evidence ("what
/// `asyncio.to_thread` does") and Q7's demo under the interview's model answer.
#[test]
fn the_captions_over_a_run_are_rendered_not_shown_raw() {
    let mut a = app();
    quiz(&mut a, "q2", &["spot-cpu-loop"]);
    for _ in 0..8 {
        let _ = a.update(Action::Down);
    }
    let _ = a.update(Action::ToggleVariant);
    let effect = a.update(Action::Open);
    assert!(matches!(effect, Effect::RunPractice { .. }), "evidence");
    perform(&mut a, effect);
    let spot = screen(&a, 160, 48);
    assert!(
        words(&spot).contains("(what asyncio.to_thread does)"),
        "{spot}"
    );
    assert!(!spot.contains('`'), "{spot}");

    let mut a = app();
    interview(&mut a, "q7");
    let _ = a.update(Action::Open);
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    let reveal = screen(&a, 160, 48);
    assert!(
        words(&reveal).contains("Ops 2 and 3 are cut at 250 ms"),
        "{reveal}"
    );
    assert!(!reveal.contains('`'), "{reveal}");
}

/// Q1's quiz to its end: a choice right, a prediction skipped, a spot-the-bug with a line marked
/// that is not the bug, the wrong task named first.
fn quiz_finished() -> App {
    let mut a = app();
    quiz(
        &mut a,
        "q1",
        &[
            "parallel-or-not",
            "sequential-total",
            "spot-guide-q1",
            "first-done",
        ],
    );
    show(&mut a);
    let _ = a.update(Action::Char('3'));
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Char(' '));
    let _ = a.update(Action::ToggleVariant);
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    type_in(&mut a, "1");
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    let _ = a.update(Action::Open);
    a
}

#[test]
fn quiz_summary_80x24() {
    insta::assert_snapshot!(screen(&quiz_finished(), 80, 24));
}

/// Q1's sequential total before the answer: the prompt, the answer box and the code it runs.
fn predict_prompt() -> App {
    let mut a = app();
    quiz(&mut a, "q1", &["sequential-total"]);
    show(&mut a);
    a
}

#[test]
fn predict_prompt_80x24() {
    insta::assert_snapshot!(screen(&predict_prompt(), 80, 24));
}

#[test]
fn predict_prompt_120x40() {
    insta::assert_snapshot!(screen(&predict_prompt(), 120, 40));
}

/// Q7's prediction scored on asyncio, before the answer: the code is its twin's.
#[test]
fn predict_prompt_asyncio_120x40() {
    let mut a = app();
    quiz(&mut a, "q7", &["exactly-on-time-asyncio"]);
    show(&mut a);
    insta::assert_snapshot!(screen(&a, 120, 40));
}

/// Every shipped prediction with the code it runs, as `Q` would show each.
fn every_prediction() -> Vec<(String, App)> {
    let a = app();
    let mut all = Vec::new();
    for l in &a.lessons {
        for q in l.quiz.iter().filter(|q| q.as_predict().is_some()) {
            let mut b = app();
            let keys = vec![ItemKey::quiz(&l.id, &q.id)];
            let session = practice::start_quiz("Quiz".into(), keys, &b.lessons).expect("item");
            b.practice.view = Some(PracticeView::Quiz(session));
            b.screen = Screen::Practice;
            show(&mut b);
            all.push((format!("{}/{}", l.id, q.id), b));
        }
    }
    assert!(all.len() >= 19, "only {} predictions", all.len());
    all
}

#[test]
fn at_80x24_every_prediction_shows_its_prompt_its_answer_box_and_its_code() {
    for (item, a) in every_prediction() {
        let code = a
            .practice
            .code
            .as_ref()
            .expect("a prediction shows its code");
        let s = screen(&a, 80, 24);
        let text = words(&s);
        let (_, q) = code.key.resolve(&a.lessons).expect("the item");
        let prompt: String = asyncdojo::text::paragraphs(&q.expect("item").prompt)[0]
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        let prompt = prompt.replace('`', "");
        assert!(text.contains(&prompt), "{item}: no prompt `{prompt}`:\n{s}");
        assert!(text.contains("your prediction: ▏"), "{item}:\n{s}");
        assert!(text.contains("The code that runs ·"), "{item}:\n{s}");
        // The cursor's line, the function's definition (or the file's first line), is in view.
        let line = code.cursor as usize;
        let at = code.code.source.text.lines().nth(line - 1).expect("line");
        let row = format!("{line:>w$} {}", at.trim_end(), w = 2);
        let shown = row.chars().take(40).collect::<String>();
        assert!(
            s.lines().any(|r| r.contains(shown.trim_start())),
            "{item}: line {line} `{at}` not in view:\n{s}"
        );
        assert_eq!(code.cursor, code.code.start_line(), "{item}");
    }
}

/// The lines a finished run's tasks were spawned at and its marks made at, from the run itself.
fn lines_of(view: &asyncdojo::app::RunView, last: usize) -> Vec<u32> {
    let snap = view.snapshot().expect("the run");
    let mut lines: Vec<u32> = snap
        .tasks
        .iter()
        .filter_map(|t| t.line)
        .chain(snap.marks.iter().filter_map(|m| m.line))
        .filter(|&l| l >= 1 && l as usize <= last)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

#[test]
fn every_reveal_marks_the_lines_its_run_points_at() {
    let mut marked_somewhere = 0;
    for (item, mut a) in every_prediction() {
        let key = a.practice.code.as_ref().expect("code").key.clone();
        let (_, q) = key.resolve(&a.lessons).expect("the item");
        let answer = q
            .and_then(|q| q.as_predict())
            .expect("predict")
            .answer
            .to_string();
        type_in(&mut a, &answer);
        let effect = a.update(Action::Open);
        perform(&mut a, effect);
        let run = a.practice.shown_run.as_ref().expect("the run is shown");
        let code = a.practice.code.as_ref().expect("the code is still shown");
        // The code is the source of the run shown (tokio when Python could not run the twin).
        assert_eq!(code.code.runtime, run.runtime, "{item}");
        let expected = lines_of(shown_view(&a), code.code.source.line_count());
        assert_eq!(code.marked.as_ref(), Some(&expected), "{item}");
        let s = screen(&a, 80, 24);
        if let Some(first) = expected.first() {
            marked_somewhere += 1;
            assert!(
                s.lines().any(|r| r.starts_with("\"│▶ ")),
                "{item}: a line the run points at ({first}) is marked in view:\n{s}"
            );
            assert!(s.contains("▶ spawned or marked at lines"), "{item}:\n{s}");
        } else {
            assert!(
                s.contains("no spawn or mark of the run points"),
                "{item}:\n{s}"
            );
        }
    }
    assert!(
        marked_somewhere >= 19,
        "only {marked_somewhere} runs point at a line"
    );
}

#[test]
fn the_reveal_marks_where_the_requests_were_spawned_and_answered() {
    let a = predict_revealed();
    let code = a.practice.code.as_ref().expect("code");
    assert_eq!(code.code.source.file, "src/demo/catalog/gather/shown.rs");
    // ctx.mark("response") in `request`, ctx.instrument(..) in `sequential`.
    assert_eq!(code.marked.as_deref(), Some(&[11, 19][..]));
    let s = screen(&a, 120, 40);
    assert!(s.contains("│▶ 19         ctx.instrument("), "{s}");
    assert!(s.contains("▶ spawned or marked at lines 11, 19"), "{s}");
}

#[test]
fn arrows_move_through_the_code_until_the_run_is_shown() {
    let mut a = predict_prompt();
    let cursor = |a: &App| a.practice.code.as_ref().expect("code").cursor;
    assert_eq!(cursor(&a), 15, "on `pub async fn sequential`");
    for _ in 0..3 {
        let _ = a.update(Action::Down);
    }
    let _ = a.update(Action::Up);
    assert_eq!(cursor(&a), 17);
    let _ = a.update(Action::Scroll {
        pane: asyncdojo::app::Pane::Practice,
        down: true,
    });
    assert_eq!(cursor(&a), 20, "a wheel step is three lines");
    // To the end of the file, and no further: the view follows.
    for _ in 0..40 {
        let _ = a.update(Action::Down);
    }
    assert_eq!(cursor(&a), 40);
    assert!(screen(&a, 80, 24).contains("  40 }"));
    for _ in 0..50 {
        let _ = a.update(Action::Up);
    }
    assert_eq!(cursor(&a), 1);
    assert!(screen(&a, 80, 24).contains("   1 use std::time::Duration;"));
    // Typing still goes to the answer.
    type_in(&mut a, "400");
    let effect = a.update(Action::Open);
    perform(&mut a, effect);
    // Once the run is shown ↑/↓ are the lanes' again.
    let _ = a.update(Action::Down);
    assert_eq!(cursor(&a), 1, "the code's cursor stays");
    assert!(a.practice.code.as_ref().is_some_and(|c| c.marked.is_some()));
}

#[test]
fn the_code_goes_with_its_item() {
    let mut a = app();
    quiz(&mut a, "q1", &["sequential-total", "parallel-or-not"]);
    show(&mut a);
    assert!(a.practice.code.is_some());
    // Skipped: the next item is a choice, with no code.
    let _ = a.update(Action::Char(' '));
    assert!(a.practice.code.is_none());
    assert!(!screen(&a, 80, 24).contains("The code"));
}

#[test]
fn a_prediction_asks_for_its_code_to_be_highlighted_off_the_ui_thread() {
    use asyncdojo::ui::code_pane::missing_highlight;
    let mut a = App::new(asyncdojo::lesson::load_embedded(&Registry), false);
    quiz(&mut a, "q4", &["abort-total"]);
    show(&mut a);
    let source = a.practice.code.as_ref().expect("code").code.source;
    // Nothing else in this test binary highlights (its apps draw without colour).
    let request = missing_highlight(&a).expect("the code is asked for");
    assert_eq!(&*request.code, &*source.text);
    let _ = request.run();
    assert_eq!(missing_highlight(&a).map(|r| r.key), None, "cached now");
    // A choice has no code to highlight.
    quiz(&mut a, "q2", &["from-thread"]);
    show(&mut a);
    assert!(missing_highlight(&a).is_none());
}

#[test]
fn a_prediction_with_its_code_draws_at_any_size() {
    let mut revealed = predict_revealed();
    let _ = revealed.update(Action::Resize);
    for a in [&predict_prompt(), &revealed] {
        for (w, h) in [
            (20, 6),
            (40, 10),
            (60, 15),
            (80, 20),
            (139, 30),
            (141, 30),
            (200, 60),
        ] {
            let s = screen(a, w, h);
            assert_eq!(s.lines().count(), usize::from(h));
        }
    }
}

#[test]
fn a_twins_prediction_run_on_tokio_shows_the_rust_that_ran() {
    let mut a = app();
    quiz(&mut a, "q7", &["exactly-on-time-asyncio"]);
    show(&mut a);
    let key = a.practice.code.as_ref().expect("code").key.clone();
    assert_eq!(
        a.practice
            .code
            .as_ref()
            .map(|c| c.code.source.file.as_str()),
        Some("twins/timeouts.py")
    );
    type_in(&mut a, "1");
    let Effect::ScorePredict { .. } = a.update(Action::Open) else {
        panic!("Enter scores the prediction")
    };
    // Python could not run the twin: the edge made the run on tokio.
    let item = key
        .resolve(&a.lessons)
        .and_then(|(_, item)| item)
        .expect("item")
        .clone();
    let request = asyncdojo::practice::predict_request(&item).expect("request");
    let run = run_shown_on(request, asyncdojo::demo::asyncio::Runtime::Tokio).expect("run");
    let _ = a.update(Action::PracticeRan {
        purpose: RunPurpose::Predict(key),
        result: Ok(run),
    });
    let code = a.practice.code.as_ref().expect("code");
    assert_eq!(code.code.source.file, "src/demo/catalog/timeouts/shown.rs");
    assert_eq!(
        code.code.function.as_ref().map(|f| f.name.as_str()),
        Some("with_timeout")
    );
    let expected = lines_of(shown_view(&a), code.code.source.line_count());
    assert!(!expected.is_empty());
    assert_eq!(code.marked.as_ref(), Some(&expected));
    assert!(screen(&a, 120, 40).contains("timeouts/shown.rs"));
}
