//! The practice screen drawn whole, on the shipped lessons: quiz items, their reveals and the mock
//! interview, at the sizes people use.

use asyncdojo::app::practice::{self, PracticeView};
use asyncdojo::app::{Action, App, Screen};
use asyncdojo::demo::Registry;
use asyncdojo::practice::{InterviewConfig, ItemKey, Question};
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
