//! Highlighted code with line numbers; lines the latest marks point at are highlighted.
//! Highlighting comes from the cache the background warm-up filled; until then, plain text.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use crate::app::Palette;
use crate::highlight;
use crate::lesson::Language;

pub struct CodePane<'a> {
    pub code: &'a str,
    pub language: Language,
    pub scroll: usize,
    pub marked: &'a [u32],
    pub theme: &'a Theme,
}

impl Widget for &CodePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let palette = match t.palette {
            Palette::Dark => highlight::Palette::Dark,
            Palette::Light => highlight::Palette::Light,
        };
        let highlighted = if t.color {
            highlight::cached(self.code, self.language, palette)
        } else {
            None
        };
        let total = self.code.lines().count();
        let scroll = self.scroll.min(total.saturating_sub(1));
        let width = total.to_string().len();
        let lines: Vec<Line> = self
            .code
            .lines()
            .enumerate()
            .skip(scroll)
            .take(area.height as usize)
            .map(|(i, text)| {
                let marked = self.marked.contains(&(i as u32 + 1));
                let gutter = if marked { "▶" } else { " " };
                let mut spans = vec![Span::styled(
                    format!("{gutter}{:>width$} ", i + 1),
                    if marked { t.mark } else { t.dim },
                )];
                match highlighted.as_ref().and_then(|h| h.get(i)) {
                    Some(runs) => spans.extend(runs.iter().map(|r| {
                        let (red, g, b) = r.rgb;
                        let mut style = Style::default().fg(Color::Rgb(red, g, b));
                        if r.bold {
                            style = style.add_modifier(Modifier::BOLD);
                        }
                        Span::styled(r.text.clone(), style)
                    })),
                    None => spans.push(Span::styled(
                        crate::text::sanitize(text).into_owned(),
                        t.base,
                    )),
                }
                let line = Line::from(spans);
                if marked {
                    line.style(t.marked_line)
                } else {
                    line
                }
            })
            .collect();
        Paragraph::new(lines).render(area, buf);
    }
}
