//! Named styles for a dark and a light terminal, and their NO_COLOR form: without colour the
//! glyphs (█ running, ─ waiting, outcome marks) still tell the states apart.

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
                Color::Gray,
                Color::Blue,
                Color::Magenta,
                Color::Rgb(0, 130, 0),
                Color::Gray,
                Color::Rgb(200, 220, 250),
                Color::Rgb(250, 235, 180),
            ),
        };
        Theme {
            base: Style::default().fg(fg),
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

    /// A glyph per outcome, distinct without colour.
    pub fn outcome(&self, outcome: Outcome) -> (&'static str, Style) {
        match outcome {
            Outcome::Ok => ("✓", self.ok),
            Outcome::Error => ("✗", self.error),
            Outcome::Timeout => ("⏱", self.error),
            Outcome::Cancelled => ("⊘", self.dim),
            Outcome::Rejected => ("⛔", self.error),
            Outcome::Panicked => ("!", self.error),
            Outcome::Running => ("…", self.dim),
        }
    }
}
