//! The lesson's text: question, answer (rendered Markdown), key points, the asyncio ↔ tokio map.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::markdown::{MdLine, TextStyle};

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
            .map(|l| md_line(l, self.theme, Style::default()))
            .collect();
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}

/// One rendered Markdown line in the theme's styles, over `base` (practice shows a prompt bold,
/// a question as a heading): plain text takes `base`, other runs (code, emphasis) their own style
/// on top of it.
pub fn md_line<'a>(line: &'a MdLine, theme: &Theme, base: Style) -> Line<'a> {
    Line::from(md_spans(line, theme, base))
}

/// [`md_line`]'s spans, to put after a prefix of one's own (an option's number).
pub fn md_spans<'a>(line: &'a MdLine, theme: &Theme, base: Style) -> Vec<Span<'a>> {
    line.runs
        .iter()
        .map(|r| {
            let style = match r.style {
                TextStyle::Plain => theme.base.patch(base),
                other => base.patch(theme.text(other)),
            };
            Span::styled(r.text.as_str(), style)
        })
        .collect()
}
