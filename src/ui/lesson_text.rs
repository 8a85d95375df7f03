//! The lesson's text: question, answer (rendered Markdown), key points, the asyncio ↔ tokio map.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::markdown::MdLine;

pub struct LessonText<'a> {
    pub lines: &'a [MdLine],
    pub scroll: usize,
    pub theme: &'a Theme,
}

impl Widget for &LessonText<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        // Only the lines from the scroll position on are converted; wrapping fills the pane.
        let lines: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .take(area.height as usize)
            .map(|l| {
                Line::from(
                    l.runs
                        .iter()
                        .map(|r| Span::styled(r.text.as_str(), self.theme.text(r.style)))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}
