//! Whole screens at 80×24 and 160×48, after scripted actions, with deterministic virtual-clock runs.

use asyncdojo::app::{Action, App, Effect, Pane, RunView};
use asyncdojo::demo::timeline::index::EventKind;
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
        let runs = asyncdojo::demo::run::Run::from_report(
            report,
            asyncdojo::demo::asyncio::Runtime::Tokio,
        );
        let _ = app.update(Action::DemoFinished { runs, error: None });
    }
}

#[test]
fn browser_80x24() {
    insta::assert_snapshot!(screen(&app(true), 80, 24));
}

/// The shipped list ends with the lessons beyond the guide, under a heading of their own after
/// the guide's last section. (Asserted line by line rather than snapshot, so that editing a
/// shipped lesson's title does not break a UI test.)
#[test]
fn the_shipped_list_ends_with_the_lessons_beyond_the_guide() {
    let mut a = App::new(asyncdojo::lesson::load_embedded(&Registry), true);
    let _ = a.update(Action::End);
    let shown = screen(&a, 80, 24);
    let rows: Vec<&str> = shown
        .lines()
        .map(|l| l.trim_matches('"').trim_matches('│').trim())
        .collect();
    let at = |text: &str| rows.iter().position(|r| r.starts_with(text));
    let (Some(guide_end), Some(heading)) = (at("Common mistakes"), at("Beyond the guide")) else {
        panic!("both headings on screen:\n{shown}");
    };
    assert!(guide_end < heading, "{shown}");
    for (i, label) in ["B1", "B2", "B3", "B4", "B5", "B6", "B7"]
        .iter()
        .enumerate()
    {
        assert!(
            rows[heading + 1 + i].starts_with(label),
            "{label} under the heading:\n{shown}"
        );
    }
}

#[test]
fn lesson_after_compare_80x24() {
    let mut a = app(true);
    let _ = a.update(Action::Open);
    let effect = a.update(Action::Compare);
    perform(&mut a, effect);
    let _ = a.update(Action::Right);
    // A run switches to the demo layout; D is back to the lesson text beside the timeline.
    let _ = a.update(Action::ToggleLayout);
    insta::assert_snapshot!(screen(&a, 80, 24));
}

/// Compare on the virtual clock, the cursor stepped to the first response (a mark, with a line).
fn compared_at_first_response() -> App {
    let mut a = app(true);
    let _ = a.update(Action::Open);
    let effect = a.update(Action::Compare);
    perform(&mut a, effect);
    for _ in 0..100 {
        let event = a.lesson.as_ref().and_then(|v| v.run.cursor_event());
        if event.is_some_and(|e| matches!(e.kind, EventKind::Mark { .. })) {
            break;
        }
        let _ = a.update(Action::Right);
    }
    a
}

#[test]
fn demo_layout_80x24() {
    // Too short for code and timeline stacked: the timeline, both variants on one axis.
    let a = compared_at_first_response();
    let text = screen(&a, 80, 24);
    for seen in [
        "sequential 600 ms",
        "join-all 300 ms",
        "▸ sequential",
        "▹ join-all",
    ] {
        assert!(text.contains(seen), "{seen} in\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn demo_layout_code_80x24() {
    // Tab: the code over a few lanes, in view its response line, marked for the cursor's event.
    let mut a = compared_at_first_response();
    let _ = a.update(Action::NextPane);
    let text = screen(&a, 80, 24);
    assert!(
        text.lines().any(|l| l.contains(" 11     ctx.mark(")),
        "the marked line 11 is in view:\n{text}"
    );
    assert!(!lit_responses(&a), "no line is picked yet");
    // → picks that line and goes to its next event: the line under the cursor, its responses
    // lit in the lanes below.
    let _ = a.update(Action::Right);
    assert!(lit_responses(&a), "the picked line's responses are lit");
    insta::assert_snapshot!(screen(&a, 80, 24));
}

/// At 80×24, are the ◆ responses of requests 2 and 3 drawn lit, as the events of a picked line
/// (reversed, without colour)?
fn lit_responses(app: &App) -> bool {
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    asyncdojo::ui::draw(app, area, &mut buf);
    ["request 2", "request 3"].iter().all(|name| {
        (0..area.height).any(|y| {
            let row: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            row.contains(name)
                && (0..area.width).any(|x| {
                    let cell = &buf[(x, y)];
                    cell.symbol() == "◆"
                        && cell.modifier.contains(ratatui::style::Modifier::REVERSED)
                })
        })
    })
}

#[test]
fn demo_layout_stacked_90x40() {
    insta::assert_snapshot!(screen(&compared_at_first_response(), 90, 40));
}

#[test]
fn demo_layout_120x40() {
    insta::assert_snapshot!(screen(&compared_at_first_response(), 120, 40));
}

#[test]
fn demo_layout_160x48() {
    insta::assert_snapshot!(screen(&compared_at_first_response(), 160, 48));
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

/// The app's timeline pane and `run`'s text rasterise lanes with one function: on a recorded run
/// with long polls, short polls, waits and marks they agree column for column.
#[test]
fn the_timeline_pane_and_the_run_text_agree_cell_for_cell() {
    use asyncdojo::demo::timeline::Cell;
    use asyncdojo::ui::timeline_pane::TimelinePane;
    use ratatui::widgets::Widget;

    // The blocking variant holds the thread (a long poll) while the ticker waits and marks ticks.
    let req =
        RunRequest::build("blocking", &["blocking".into()], &[], Clock::Virtual).expect("req");
    let report = runner::run_blocking(req).expect("run");
    let run = &report.runs[0];
    let tasks = &run.timeline.tasks;

    // The pane at 80 columns: the names (as wide as the widest name or strip label), a space,
    // the lane columns, a space, the outcome.
    let pane_w = 80u16;
    let mut view = RunView::finished(
        asyncdojo::demo::run::Run::from_report(
            report.clone(),
            asyncdojo::demo::asyncio::Runtime::Tokio,
        ),
        None,
    );
    view.cursor_ms = None;
    let theme = asyncdojo::ui::theme::Theme::new(asyncdojo::app::Palette::Dark, true);
    let area = ratatui::layout::Rect::new(0, 0, pane_w, 30);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    (&TimelinePane {
        run: &view,
        narrate: true,
        line: None,
        theme: &theme,
    })
        .render(area, &mut buf);
    let pane_cell = |symbol: &str| {
        asyncdojo::ui::timeline_pane::CELLS
            .into_iter()
            .find(|c| {
                asyncdojo::ui::timeline_pane::glyph(*c, &theme).map_or(" ", |g| g.0) == symbol
            })
            .unwrap_or_else(|| panic!("not a lane glyph in the pane: {symbol:?}"))
    };
    // `main` is spawned at 0 ms: its first lane column is the first drawn cell after its name.
    let first_lane = (4..pane_w)
        .find(|&x| buf[(x, 1)].symbol() != " ")
        .expect("main's lane");
    let pane_name_w = first_lane - 1;
    let cols = usize::from(pane_w - pane_name_w - 3);
    let pane: Vec<Vec<Cell>> = (0..tasks.len() as u16)
        .map(|row| {
            (0..cols as u16)
                .map(|c| pane_cell(buf[(pane_name_w + 1 + c, 1 + row)].symbol()))
                .collect()
        })
        .collect();

    // The text at the width that gives it the same 61 lane columns.
    let name_w = tasks
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    let text = asyncdojo::cli::ascii_timeline::render(&report, cols + name_w + 14);
    let header = text
        .lines()
        .position(|l| l.starts_with("── "))
        .expect("variant header");
    let text_cell = |ch: char| {
        asyncdojo::ui::timeline_pane::CELLS
            .into_iter()
            .find(|c| asyncdojo::cli::ascii_timeline::glyph(*c) == ch)
            .unwrap_or_else(|| panic!("not a lane glyph in the text: {ch:?}"))
    };
    let ascii: Vec<Vec<Cell>> = text
        .lines()
        .skip(header + 1)
        .take(tasks.len())
        .map(|l| {
            l.chars()
                .skip(name_w + 1)
                .take(cols)
                .map(text_cell)
                .collect()
        })
        .collect();

    for (i, task) in tasks.iter().enumerate() {
        assert_eq!(pane[i], ascii[i], "lane of {}:\n{text}", task.name);
    }
    let seen: std::collections::HashSet<Cell> = pane.iter().flatten().copied().collect();
    for kind in [
        Cell::Running,
        Cell::ShortPoll,
        Cell::Waiting(asyncdojo::demo::timeline::Woken::Timer),
        Cell::Waiting(asyncdojo::demo::timeline::Woken::Task),
        // The ticker, woken by its timer while the blocker holds the thread.
        Cell::Scheduled,
        Cell::Mark,
    ] {
        assert!(
            seen.contains(&kind),
            "the run shows no {kind:?} cell:\n{text}"
        );
    }
}

/// The README's legend is the glyph table both outputs use.
#[test]
fn the_readme_legend_lists_each_cell_as_both_outputs_draw_it() {
    use asyncdojo::demo::timeline::Cell;
    let readme = include_str!("../README.md");
    let theme = asyncdojo::ui::theme::Theme::new(asyncdojo::app::Palette::Dark, true);
    for cell in asyncdojo::ui::timeline_pane::CELLS
        .into_iter()
        .filter(|c| *c != Cell::Absent)
    {
        let (pane, _) = asyncdojo::ui::timeline_pane::glyph(cell, &theme).expect("drawn");
        let text = asyncdojo::cli::ascii_timeline::glyph(cell).to_string();
        let text = if text == "|" { "\\|".to_owned() } else { text };
        let row = format!("| `{pane}` | `{text}` |");
        assert!(readme.contains(&row), "README.md's legend lacks {row}");
    }
}

/// The column where `text` starts in row `y` of `buffer`, cell by cell (a border or a gutter mark
/// is one cell and several bytes).
fn column_of(buffer: &ratatui::buffer::Buffer, y: u16, text: &str) -> Option<u16> {
    let want: Vec<char> = text.chars().collect();
    let width = buffer.area.width;
    (0..width.saturating_sub(want.len() as u16)).find(|&x| {
        want.iter()
            .enumerate()
            .all(|(i, c)| buffer[(x + i as u16, y)].symbol().chars().eq([*c]))
    })
}

/// The cells of each `word` in `buffer` standing alone (spaces either side).
fn cells_of<'a>(
    buffer: &'a ratatui::buffer::Buffer,
    word: &str,
) -> Vec<Vec<&'a ratatui::buffer::Cell>> {
    (0..buffer.area.height)
        .filter_map(|y| {
            let x = column_of(buffer, y, &format!(" {word} "))? + 1;
            Some(
                (x..x + word.len() as u16)
                    .map(|x| &buffer[(x, y)])
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn the_twins_python_is_highlighted_in_the_code_pane_once_its_highlight_arrives() {
    use asyncdojo::demo::asyncio::Runtime;
    use asyncdojo::lesson::Language;
    use asyncdojo::ui::code_pane::missing_highlight;
    use ratatui::style::Color;

    let draw = |a: &App| {
        let mut terminal = Terminal::new(TestBackend::new(160, 40)).expect("terminal");
        terminal
            .draw(|f| asyncdojo::ui::render(a, f))
            .expect("draw");
        terminal.backend().buffer().clone()
    };
    let mut a = app(false);
    let _ = a.update(Action::Open);
    // Whatever the pane shows is asked for: here the lesson's own snippet.
    assert!(
        missing_highlight(&a).is_some(),
        "the lesson's snippet is not asked for"
    );
    let _ = a.update(Action::ToggleRuntime);
    let _ = a.update(Action::Run);
    // gather's tokio runs stand in for the twin's (same names and variants): no Python needed.
    let req = RunRequest::build("gather", &["sequential".to_owned()], &[], Clock::Virtual)
        .expect("request");
    // Tokio's timelines standing in for the twin's: what is drawn beside them is the twin.
    let runs = asyncdojo::demo::run::Run::from_report(
        runner::run_blocking(req).expect("run"),
        Runtime::Tokio,
    )
    .into_iter()
    .map(|r| r.as_made_by(Runtime::Asyncio))
    .collect();
    let _ = a.update(Action::DemoFinished { runs, error: None });
    let request = missing_highlight(&a).expect("the twin is not highlighted yet");
    assert_eq!(request.language, Language::Python);
    assert_eq!(
        &*request.code,
        asyncdojo::demo::source::twin("gather")
            .expect("twin")
            .text
            .as_ref()
    );

    // Before: plain, every letter of `async` in the pane's base colour.
    let before = draw(&a);
    let plain = cells_of(&before, "async");
    assert!(
        !plain.is_empty(),
        "no `async` in the code pane:\n{before:?}"
    );
    let base = plain[0][0].fg;
    assert!(plain.iter().flatten().all(|c| c.fg == base));

    // What the terminal loop's highlighting thread does with the request.
    let _ = request.run();
    assert!(
        missing_highlight(&a).is_none(),
        "asked again once highlighted"
    );
    let after = draw(&a);
    let coloured = cells_of(&after, "async");
    assert_eq!(coloured.len(), plain.len());
    for word in &coloured {
        let fg = word[0].fg;
        assert!(matches!(fg, Color::Rgb(..)), "{fg:?}");
        assert_ne!(fg, base, "`async` is still plain");
        assert!(word.iter().all(|c| c.fg == fg), "one keyword, one colour");
    }
    // A keyword and a name are told apart: `def` differs from the function's name after it.
    let (y, def) = (0..after.area.height)
        .find_map(|y| Some((y, column_of(&after, y, "def request(")?)))
        .expect("the request line is in view");
    assert_ne!(after[(def, y)].fg, after[(def + 4, y)].fg);
    // The text itself is what it was: colours only.
    let text = |b: &ratatui::buffer::Buffer| -> Vec<String> {
        b.content().iter().map(|c| c.symbol().to_owned()).collect()
    };
    assert_eq!(text(&before), text(&after));
}
