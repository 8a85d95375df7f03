//! Named styles for a dark and a light terminal, and their NO_COLOR form: without colour the
//! glyphs (█ running, ░ scheduled, ─ ┄ ◦ ≈ ═ waiting, _ not started, outcome marks) still tell
//! the states apart.

use ratatui::style::{Color, Modifier, Style};

use crate::app::Palette;
use crate::demo::Outcome;
use crate::markdown::TextStyle;

#[derive(Debug, Clone)]
pub struct Theme {
    pub base: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selected: Style,
    pub heading: Style,
    pub strong: Style,
    pub emphasis: Style,
    pub code: Style,
    pub running: Style,
    pub waiting: Style,
    /// Woken, not yet polled: waiting for the thread.
    pub scheduled: Style,
    pub cursor: Style,
    pub mark: Style,
    pub marked_line: Style,
    pub status: Style,
    pub key: Style,
    pub error: Style,
    pub ok: Style,
    pub color: bool,
    pub palette: Palette,
}

impl Theme {
    pub fn new(palette: Palette, no_color: bool) -> Theme {
        if no_color {
            let plain = Style::default();
            return Theme {
                base: plain,
                dim: plain,
                title: plain.add_modifier(Modifier::BOLD),
                border: plain,
                border_focused: plain.add_modifier(Modifier::BOLD),
                selected: plain.add_modifier(Modifier::REVERSED),
                heading: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                strong: plain.add_modifier(Modifier::BOLD),
                emphasis: plain.add_modifier(Modifier::ITALIC),
                code: plain,
                running: plain,
                waiting: plain,
                scheduled: plain,
                cursor: plain.add_modifier(Modifier::REVERSED),
                mark: plain.add_modifier(Modifier::BOLD),
                marked_line: plain.add_modifier(Modifier::REVERSED),
                status: plain.add_modifier(Modifier::REVERSED),
                key: plain.add_modifier(Modifier::BOLD),
                error: plain.add_modifier(Modifier::BOLD),
                ok: plain,
                color: false,
                palette,
            };
        }
        let (fg, dim, accent, code, run, wait, sel_bg, mark_bg) = match palette {
            Palette::Dark => (
                Color::Gray,
                Color::DarkGray,
                Color::Cyan,
                Color::Yellow,
                Color::Green,
                Color::DarkGray,
                Color::Rgb(40, 60, 90),
                Color::Rgb(70, 55, 20),
            ),
            Palette::Light => (
                Color::Black,
                Color::DarkGray,
                Color::Blue,
                Color::Magenta,
                Color::Rgb(0, 130, 0),
                Color::Gray,
                Color::Rgb(200, 220, 250),
                Color::Rgb(250, 235, 180),
            ),
        };
        // The light theme brings its own paper: on a dark terminal its black text would vanish
        // into the terminal's background. The dark one keeps the terminal's.
        let paper = match palette {
            Palette::Dark => Style::default(),
            Palette::Light => Style::default().bg(Color::White),
        };
        Theme {
            base: paper.fg(fg),
            dim: Style::default().fg(dim),
            title: Style::default().fg(accent).add_modifier(Modifier::BOLD),
            border: Style::default().fg(dim),
            border_focused: Style::default().fg(accent),
            selected: Style::default().bg(sel_bg).add_modifier(Modifier::BOLD),
            heading: Style::default().fg(accent).add_modifier(Modifier::BOLD),
            strong: Style::default().add_modifier(Modifier::BOLD),
            emphasis: Style::default().add_modifier(Modifier::ITALIC),
            code: Style::default().fg(code),
            running: Style::default().fg(run),
            waiting: Style::default().fg(wait),
            scheduled: Style::default().fg(match palette {
                Palette::Dark => Color::Yellow,
                Palette::Light => Color::Rgb(170, 100, 0),
            }),
            cursor: Style::default().bg(accent).fg(Color::Black),
            mark: Style::default()
                .fg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
            marked_line: Style::default().bg(mark_bg),
            status: Style::default().bg(sel_bg),
            key: Style::default().fg(accent).add_modifier(Modifier::BOLD),
            error: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ok: Style::default().fg(run),
            color: true,
            palette,
        }
    }

    pub fn text(&self, style: TextStyle) -> Style {
        match style {
            TextStyle::Plain => self.base,
            TextStyle::Strong => self.base.patch(self.strong),
            TextStyle::Emphasis => self.base.patch(self.emphasis),
            TextStyle::StrongEmphasis => self.base.patch(self.strong).patch(self.emphasis),
            TextStyle::Code | TextStyle::CodeBlock => self.code,
            TextStyle::Heading => self.heading,
            TextStyle::Bullet => self.title,
        }
    }

    /// A glyph per outcome, distinct without colour, each one cell wide (an emoji such as ⛔ takes
    /// two and pushes the pane's border out: see `LEGEND`'s test).
    pub fn outcome(&self, outcome: Outcome) -> (&'static str, Style) {
        match outcome {
            Outcome::Ok => ("✓", self.ok),
            Outcome::Error => ("✗", self.error),
            Outcome::Timeout => ("◷", self.error),
            Outcome::Cancelled => ("⊘", self.dim),
            Outcome::Rejected => ("⊖", self.error),
            Outcome::Panicked => ("!", self.error),
            Outcome::Running => ("…", self.dim),
        }
    }
}

/// Before the time left in the interview's countdown: the timeout's clock face, one cell wide
/// (a stopwatch emoji may take two).
pub const COUNTDOWN: &str = "◷";

/// Every glyph the lanes and the lesson list draw, with what it means: the help overlay's legend.
/// The lanes' own glyphs come from `timeline_pane::glyph` and `Theme::outcome`; a test checks
/// this table holds each of them, and that every one is a single cell wide.
pub const LEGEND: &[(&str, &str)] = &[
    ("█", "lane: being polled (most of the column)"),
    ("╎", "lane: a short poll (every poll on the virtual clock)"),
    (
        "░",
        "lane: scheduled: woken, waiting for the thread (the ready queue)",
    ),
    ("─", "lane: waiting, not (yet) woken"),
    (
        "┄",
        "lane: waiting, until another task woke it (a permit, a message, a result)",
    ),
    ("◦", "lane: waiting, until the timer woke it"),
    ("≈", "lane: waiting, until I/O woke it"),
    ("═", "lane: waiting, until another thread woke it"),
    ("_", "lane: created, not started (never polled yet)"),
    ("◆", "lane: a mark (a response, a permit, a grant)"),
    (
        "↓",
        "at the cursor: woken by the lane the │ comes from (↑ from below)",
    ),
    ("✓", "ended ok"),
    ("✗", "ended in error"),
    ("◷", "timed out · before the interview's time left"),
    ("⊘", "cancelled"),
    ("⊖", "rejected (a breaker, a limiter)"),
    ("!", "panicked (lanes) · something is due (lesson list)"),
    ("…", "still running"),
    (
        "▁",
        "strip: a series' value, up to █ at the top of its scale (max N)",
    ),
    ("·", "lesson list: started"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Palette;
    use crate::demo::timeline::{Cell, Woken};

    #[test]
    fn the_light_theme_paints_its_own_background_on_every_cell() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
        let mut app = crate::app::App::new(
            crate::lesson::load_dir(&dir, &crate::demo::Registry).expect("fixture lessons"),
            false,
        );
        let _ = app.update(crate::app::Action::ToggleTheme);
        let _ = app.update(crate::app::Action::Open);
        let area = ratatui::layout::Rect::new(0, 0, 100, 30);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        crate::ui::draw(&app, area, &mut buf);
        let unpainted = buf
            .content()
            .iter()
            .filter(|c| c.bg == ratatui::style::Color::Reset)
            .count();
        assert_eq!(unpainted, 0, "cells left on the terminal's own background");
    }

    #[test]
    fn every_glyph_is_one_cell_wide_and_in_the_legend() {
        let t = Theme::new(Palette::Dark, true);
        let outcomes = [
            Outcome::Ok,
            Outcome::Error,
            Outcome::Timeout,
            Outcome::Cancelled,
            Outcome::Rejected,
            Outcome::Panicked,
            Outcome::Running,
        ];
        let cells = [
            Cell::NotStarted,
            Cell::Waiting(Woken::NotYet),
            Cell::Waiting(Woken::Task),
            Cell::Waiting(Woken::Timer),
            Cell::Waiting(Woken::Io),
            Cell::Waiting(Woken::Thread),
            Cell::Scheduled,
            Cell::ShortPoll,
            Cell::Running,
            Cell::Mark,
        ];
        let marks = [
            crate::practice::stats::LessonMark::Started,
            crate::practice::stats::LessonMark::Mastered,
            crate::practice::stats::LessonMark::Due,
        ];
        let drawn: Vec<String> =
            outcomes
                .iter()
                .map(|o| t.outcome(*o).0.to_owned())
                .chain(cells.iter().filter_map(|c| {
                    crate::ui::timeline_pane::glyph(*c, &t).map(|g| g.0.to_owned())
                }))
                .chain(marks.iter().map(|m| m.symbol().to_string()))
                .chain(std::iter::once(COUNTDOWN.to_owned()))
                .collect();
        for g in &drawn {
            assert!(
                LEGEND.iter().any(|(l, _)| l == g),
                "{g} is drawn but not in the legend"
            );
        }
        for (g, _) in LEGEND {
            assert_eq!(
                ratatui::text::Span::raw(*g).width(),
                1,
                "{g} must take one cell"
            );
        }
        assert_eq!(
            ratatui::text::Span::raw("⛔").width(),
            2,
            "the check can fail"
        );
    }
}
