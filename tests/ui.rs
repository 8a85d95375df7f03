//! Whole screens at 80×24 and 160×48, after scripted actions, with deterministic virtual-clock runs.

use asyncdojo::app::{Action, App, Effect, Pane};
use asyncdojo::demo::{Clock, Registry, RunRequest, runner};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app(no_color: bool) -> App {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    App::new(
        asyncdojo::lesson::load_dir(&dir, &Registry).expect("fixtures"),
        no_color,
    )
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| asyncdojo::ui::render(app, f))
        .expect("draw");
    terminal.backend().to_string()
}

/// Runs what the app asked for on the virtual clock and feeds the result back, as the terminal
/// loop does with the real one.
fn perform(app: &mut App, effect: Effect) {
    if let Effect::StartRun(mut req) = effect {
        req.clock = Clock::Virtual;
        let report = runner::run_blocking(req).expect("run");
        let runs = report
            .runs
            .into_iter()
            .map(|v| (v.variant, v.timeline, v.total_ms))
            .collect();
        let _ = app.update(Action::DemoFinished { runs, error: None });
    }
}

#[test]
fn browser_80x24() {
    insta::assert_snapshot!(screen(&app(true), 80, 24));
}

#[test]
fn lesson_after_compare_80x24() {
    let mut a = app(true);
    let _ = a.update(Action::Open);
    let effect = a.update(Action::Compare);
    perform(&mut a, effect);
    let _ = a.update(Action::Right);
    insta::assert_snapshot!(screen(&a, 80, 24));
}

#[test]
fn lesson_scrubbed_160x48() {
    let mut a = app(true);
    let _ = a.update(Action::Open);
    for _ in 0..2 {
        let _ = a.update(Action::ToggleLanguage);
    }
    let effect = a.update(Action::Compare);
    perform(&mut a, effect);
    for _ in 0..2 {
        let _ = a.update(Action::Right);
    }
    let _ = a.update(Action::PageDown);
    insta::assert_snapshot!(screen(&a, 160, 48));
}

#[test]
fn help_overlay_80x24() {
    let mut a = app(true);
    let _ = a.update(Action::ToggleHelp);
    insta::assert_snapshot!(screen(&a, 80, 24));
}

#[test]
fn every_size_down_to_1x1_draws_without_panicking() {
    let mut a = app(false);
    let _ = a.update(Action::Open);
    let effect = a.update(Action::Compare);
    perform(&mut a, effect);
    let _ = a.update(Action::ToggleHelp);
    for w in (1..=90).step_by(7) {
        for h in (1..=30).step_by(3) {
            let _ = screen(&a, w, h);
        }
    }
    let _ = screen(&a, 1, 1);
    let small = screen(&a, 40, 10);
    assert!(small.contains("terminal too small"), "{small}");
}

#[test]
fn no_color_still_tells_running_from_waiting() {
    let mut a = app(true);
    let _ = a.update(Action::Open);
    let effect = a.update(Action::Run);
    perform(&mut a, effect);
    let _ = a.update(Action::Click {
        pane: Pane::Timeline,
        row: None,
    });
    let text = screen(&a, 120, 30);
    assert!(text.contains('─'), "waiting glyph");
    assert!(text.contains('╎') || text.contains('█'), "running glyph");
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("terminal");
    terminal
        .draw(|f| asyncdojo::ui::render(&a, f))
        .expect("draw");
    let buf = terminal.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == ratatui::style::Color::Reset),
        "NO_COLOR: no foreground colours"
    );
}

#[test]
fn a_real_clock_run_can_also_be_requested() {
    let req =
        RunRequest::build("gather", &[], &["latencies_ms=1".into()], Clock::Real).expect("req");
    assert_eq!(runner::run_blocking(req).expect("run").runs.len(), 2);
}
