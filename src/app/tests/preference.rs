//! The runtime a learner prefers: asked on the first start, changed by `a`, kept with progress,
//! and where every demo opened afterwards starts. Through `update` and the keymap alone.

use super::{app, epoch};
use crate::app::keymap::action_for;
use crate::app::params_panel::RunOn;
use crate::app::{Action, App, Effect, Key, KeyCode, Pane, Screen};
use crate::demo::Registry;
use crate::progress::Progress;

/// Press a key as the terminal loop does: through the keymap, in the focused pane.
fn press(a: &mut App, code: KeyCode) -> Effect {
    match action_for(Key::new(code), a.focus(), a.takes_text()) {
        Some(action) => a.update(action),
        None => Effect::None,
    }
}

fn runtime(a: &App) -> Option<RunOn> {
    a.lesson.as_ref()?.demo.as_ref().map(|d| d.runtime)
}

/// The app as the edge starts it, on `progress` as it was saved.
fn started(progress: Progress) -> App {
    app()
        .with_progress(progress, epoch())
        .with_first_start_question()
}

/// `progress` written to its file and read back: what the next start sees.
fn restarted(progress: &Progress) -> Progress {
    let bytes = crate::progress::store::encode(progress);
    crate::progress::store::decode(std::str::from_utf8(&bytes).expect("utf-8")).expect("reads")
}

#[test]
fn the_first_start_asks_once_and_asyncio_is_key_1() {
    let mut a = started(Progress::default());
    assert!(a.shows_runtime_question());
    assert_eq!(a.focus(), Pane::RuntimeChoice);
    // The question has the keys: Enter does not open a lesson under it.
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(a.screen, Screen::Browser);
    let before = a.progress_version;
    let _ = press(&mut a, KeyCode::Char('1'));
    assert!(!a.shows_runtime_question());
    assert_eq!(a.focus(), Pane::List);
    assert_eq!(a.progress.preferences.runtime, Some(RunOn::Asyncio));
    assert!(a.progress_version > before, "the answer is saved");
    // The demo opened next starts on it, and `r` runs the twin.
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(runtime(&a), Some(RunOn::Asyncio));
    assert!(matches!(
        a.update(Action::Run),
        Effect::StartTwin { both: false, .. }
    ));

    // Answered once, never asked again.
    let again = started(restarted(&a.progress));
    assert!(!again.shows_runtime_question());

    for (key, chosen) in [('2', RunOn::Tokio), ('3', RunOn::Both)] {
        let mut a = started(Progress::default());
        let _ = press(&mut a, KeyCode::Char(key));
        assert_eq!(a.progress.preferences.runtime, Some(chosen), "key {key}");
    }
}

#[test]
fn esc_dismisses_the_question_until_the_next_start() {
    let mut a = started(Progress::default());
    let before = a.progress_version;
    let _ = press(&mut a, KeyCode::Esc);
    assert!(!a.shows_runtime_question());
    assert_eq!(a.progress.preferences.runtime, None);
    assert_eq!(a.progress_version, before, "nothing to save");
    // Until then demos start on tokio.
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(runtime(&a), Some(RunOn::Tokio));
    let next = started(restarted(&a.progress));
    assert!(next.shows_runtime_question(), "asked again next time");
}

#[test]
fn a_is_remembered_for_every_demo_opened_afterwards_and_after_a_restart() {
    let mut a = started(Progress::default());
    let _ = press(&mut a, KeyCode::Char('2'));
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(runtime(&a), Some(RunOn::Tokio));
    let before = a.progress_version;
    let _ = press(&mut a, KeyCode::Char('a'));
    assert_eq!(runtime(&a), Some(RunOn::Asyncio));
    assert_eq!(a.progress.preferences.runtime, Some(RunOn::Asyncio));
    assert!(a.progress_version > before, "the choice is saved");
    // Leave and come back: the demo starts where `a` left it.
    let _ = press(&mut a, KeyCode::Esc);
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(runtime(&a), Some(RunOn::Asyncio));
    // And after a restart.
    let mut b = started(restarted(&a.progress));
    assert!(!b.shows_runtime_question());
    let _ = press(&mut b, KeyCode::Enter);
    assert_eq!(runtime(&b), Some(RunOn::Asyncio));
}

#[test]
fn with_asyncio_preferred_every_lesson_opens_its_demo_on_asyncio() {
    // Every demo has a twin: a Python learner's preference holds in every lesson, and no lesson
    // says it had to fall back to tokio.
    let set = crate::lesson::load_embedded(&Registry);
    let mut a = App::new(set, true);
    a.progress.preferences.runtime = Some(RunOn::Asyncio);
    for i in 0..a.lessons.len() {
        if a.lessons[i].demos.is_empty() {
            continue;
        }
        a.open_lesson(i);
        assert_eq!(runtime(&a), Some(RunOn::Asyncio), "{}", a.lessons[i].id);
        assert!(
            a.message
                .as_deref()
                .is_none_or(|m| !m.contains("no asyncio twin")),
            "{:?}",
            a.message
        );
        let _ = a.update(Action::Back);
    }
}

#[test]
fn without_the_first_start_question_the_app_opens_on_the_lesson_list() {
    // Tests and `App::new` alone never ask: only the edge's first start does.
    let mut a = app();
    assert!(!a.shows_runtime_question());
    let _ = press(&mut a, KeyCode::Enter);
    assert_eq!(a.screen, Screen::Lesson);
}
