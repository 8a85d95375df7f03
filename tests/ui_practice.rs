//! The practice screen drawn whole, on the shipped lessons: quiz items, their reveals and the mock
//! interview, at the sizes people use.

use asyncdojo::app::practice::{self, PracticeView};
use asyncdojo::app::{Action, App, Effect, Screen};
use asyncdojo::demo::Registry;
use asyncdojo::practice::evidence::{run_shown, score_with_run};
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
        Effect::RunPractice { purpose, request } => {
            let result = run_shown(request).map_err(|e| e.to_string());
            let _ = app.update(Action::PracticeRan { purpose, result });
        }
        _ => {}
    }
}

fn type_in(app: &mut App, text: &str) {
    for c in text.chars() {
        let _ = app.update(Action::Char(c));
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
    app.practice = Some(PracticeView::Quiz(q));
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
    app.practice = Some(PracticeView::Interview(i));
    app.screen = Screen::Practice;
}

#[test]
fn an_explanation_keeps_the_spaces_at_its_line_breaks() {
    let mut a = app();
    quiz(&mut a, "q1", &["parallel-or-not"]);
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

#[test]
fn interview_reveal_160x48() {
    insta::assert_snapshot!(screen(&interview_revealed(), 160, 48));
}
