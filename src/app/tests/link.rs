//! The demo layout and the code ↔ timeline link, through `update` alone.

use super::app;
use crate::app::{Action, App, CodeView, LessonLayout, Pane};
use crate::demo::timeline::index::EventKind;
use crate::demo::timeline::narrate::narrate;
use crate::demo::{Clock, RunRequest};

/// Q1 opened and its gather demo compared (sequential, join-all) on the virtual clock.
fn compared() -> App {
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Compare);
    let req = RunRequest::build(
        "gather",
        &["sequential".into(), "join-all".into()],
        &[],
        Clock::Virtual,
    )
    .expect("req");
    let report = crate::demo::runner::run_blocking(req).expect("run");
    let runs = crate::demo::run::Run::from_report(report, crate::demo::asyncio::Runtime::Tokio);
    let _ = a.update(Action::DemoFinished { runs, error: None });
    a
}

fn view(a: &App) -> &crate::app::LessonView {
    a.lesson.as_ref().expect("a lesson is open")
}

/// Step → until the event under the cursor satisfies `want`.
fn step_to(a: &mut App, want: impl Fn(&crate::demo::timeline::index::Event) -> bool) {
    for _ in 0..200 {
        if view(a).run.cursor_event().is_some_and(&want) {
            return;
        }
        let _ = a.update(Action::Right);
    }
    panic!("no such event");
}

/// The 1-based line of the first line of the gather demo's source containing `text`.
fn line_of(text: &str) -> u32 {
    let src = crate::demo::find("gather").expect("gather").spec().source;
    src.lines()
        .position(|l| l.contains(text))
        .map(|i| i as u32 + 1)
        .expect("the line is in the source")
}

#[test]
fn a_run_switches_to_the_demo_layout_with_its_source_and_d_goes_back() {
    let mut a = app();
    let _ = a.update(Action::Open);
    assert_eq!(view(&a).layout, LessonLayout::Lesson);
    let _ = a.update(Action::Run);
    assert_eq!(view(&a).layout, LessonLayout::Demo);
    assert_eq!(view(&a).code, CodeView::DemoSource, "the code that runs");
    assert_eq!(a.focus(), Pane::Timeline);
    // Only code and timeline in the demo layout.
    let _ = a.update(Action::NextPane);
    assert_eq!(a.focus(), Pane::Code);
    let _ = a.update(Action::NextPane);
    assert_eq!(a.focus(), Pane::Timeline);
    // D: the lesson text, focused; D again: back to the timeline.
    let _ = a.update(Action::ToggleLayout);
    assert_eq!(view(&a).layout, LessonLayout::Lesson);
    assert_eq!(a.focus(), Pane::Text);
    let _ = a.update(Action::ToggleLayout);
    assert_eq!(view(&a).layout, LessonLayout::Demo);
    assert_eq!(a.focus(), Pane::Timeline);
}

#[test]
fn the_cursor_on_a_mark_highlights_its_line_and_the_lines_lanes_wait_at() {
    let mut a = compared();
    step_to(&mut a, |e| matches!(e.kind, EventKind::Mark { .. }));
    let marks = view(&a).code_marks();
    assert_eq!(marks.event, Some(line_of("ctx.mark(\"response\")")));
    // Sequential at 100 ms: request 1 responded (at the mark's line).
    assert!(
        marks
            .lanes
            .iter()
            .any(|l| l.line == marks.event.unwrap_or(0)),
        "{marks:?}"
    );
    // Python in the code pane: nothing is linked.
    let _ = a.update(Action::ToggleLanguage);
    assert_eq!(view(&a).code_marks(), Default::default());
}

#[test]
fn a_spawned_lane_sits_at_the_line_that_instrumented_it_until_it_marks() {
    let mut a = compared();
    // Into the join-all group: its requests are instrumented in a closure at one line.
    let _ = a.update(Action::ToggleVariant);
    let _ = a.update(Action::Home);
    step_to(&mut a, |e| e.kind == EventKind::Spawn && e.line.is_some());
    let e = *view(&a).run.cursor_event().expect("an event");
    let marks = view(&a).code_marks();
    assert_eq!(marks.event, e.line);
    assert!(marks.lanes.iter().any(|l| Some(l.line) == e.line));
}

#[test]
fn a_code_line_steps_the_time_cursor_through_its_events() {
    let mut a = compared();
    let response = line_of("ctx.mark(\"response\")");
    let _ = a.update(Action::NextPane);
    assert_eq!(a.focus(), Pane::Code);
    // ↓ moves the line cursor from where the cursor's event is (none yet: the top).
    let _ = a.update(Action::Down);
    assert!(view(&a).code_line.is_some());
    if let Some(v) = &mut a.lesson {
        v.code_line = Some(response);
    }
    // → : the line's first event, then each next. A lane stays at the line it last marked
    // until it finishes, so each request's finish is on the response line too.
    let mut seen = Vec::new();
    for _ in 0..6 {
        let _ = a.update(Action::Right);
        let e = view(&a).run.cursor_event().copied().expect("an event");
        assert_eq!(e.line, Some(response), "{e:?}");
        seen.push((e.t_ms, matches!(e.kind, EventKind::Mark { .. })));
    }
    assert_eq!(
        seen,
        [
            (100.0, true),
            (100.0, false),
            (300.0, true),
            (300.0, false),
            (600.0, true),
            (600.0, false)
        ],
        "sequential's three responses, each followed by its request's finish"
    );
    // Past the last: it stays; ← goes back along the line.
    let _ = a.update(Action::Right);
    assert_eq!(view(&a).run.cursor_ms, Some(600.0));
    let _ = a.update(Action::Left);
    let e = view(&a).run.cursor_event().copied().expect("an event");
    assert_eq!((e.t_ms, e.line), (600.0, Some(response)));
    assert!(matches!(e.kind, EventKind::Mark { .. }));
}

#[test]
fn stepping_narrates_each_event_under_the_cursor() {
    let mut a = compared();
    let said = |a: &App| {
        let v = view(a);
        let snap = v.run.snapshot().expect("a run");
        let index = v.run.index().expect("an index");
        narrate(snap, index, v.run.cursor_event().expect("an event"))
    };
    assert_eq!(said(&a), "main spawned at 0 ms");
    step_to(&mut a, |e| matches!(e.kind, EventKind::Mark { .. }));
    assert_eq!(
        said(&a),
        format!(
            "request 1: response at 100 ms · line {}",
            line_of("ctx.mark(\"response\")")
        )
    );
    step_to(&mut a, |e| e.kind == EventKind::Finish);
    assert_eq!(said(&a), "request 1 finished at 100 ms: ok (100 ms)");
    // The other group: the cursor keeps its time and reads that run's events.
    let _ = a.update(Action::ToggleVariant);
    let v = view(&a);
    assert_eq!(v.run.shown, 1);
    assert!(v.run.cursor_event().is_some_and(|e| e.t_ms >= 100.0));
}

/// The narration's event is at the cursor's instant, after any key.
fn narrated_at_cursor(a: &App) -> bool {
    let run = &view(a).run;
    match (run.cursor_event(), run.cursor_ms) {
        (Some(e), Some(c)) => e.t_ms == c,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

#[test]
fn after_v_the_narration_tells_the_event_under_the_cursor_not_a_later_one() {
    let mut a = compared();
    let _ = a.update(Action::NextPane); // code
    let _ = a.update(Action::NextPane); // timeline
    assert_eq!(a.focus(), Pane::Timeline);
    // Sequential: request 1's response at 100 ms. Join-all has nothing between 100 and 200 ms
    // after its first response, so a cursor left at a sequential-only instant used to land on
    // join-all's next event, 100 ms later.
    step_to(&mut a, |e| {
        e.t_ms > 100.0 && e.t_ms < 200.0 || e.t_ms > 300.0
    });
    let before = view(&a).run.cursor_ms.expect("cursor");
    let _ = a.update(Action::ToggleVariant);
    assert_eq!(view(&a).run.shown, 1);
    let after = view(&a).run.cursor_ms.expect("cursor");
    assert!(
        after <= before,
        "the cursor never jumps ahead: {before} → {after}"
    );
    assert!(narrated_at_cursor(&a), "narration at the cursor after v");
    for key in [
        Action::ZoomIn,
        Action::ZoomIn,
        Action::PanRight,
        Action::PanRight,
        Action::PanRight,
        Action::PanLeft,
        Action::ZoomOut,
        Action::ToggleVariant,
        Action::Home,
        Action::End,
        Action::Right,
        Action::ToggleVariant,
    ] {
        let _ = a.update(key.clone());
        assert!(
            narrated_at_cursor(&a),
            "narration at the cursor after {key:?}"
        );
        let run = &view(&a).run;
        let (w0, w1) = run.visible_window();
        let c = run.cursor_ms.expect("cursor");
        assert!(
            (w0..=w1).contains(&c),
            "the cursor is on screen after {key:?}"
        );
    }
}
