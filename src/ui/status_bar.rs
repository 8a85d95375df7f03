//! One line: the keys that matter in the focused pane, and the latest message.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use crate::app::{App, keymap};

pub struct StatusBar<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl Widget for &StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let mut spans = Vec::new();
        if let Some(msg) = self
            .app
            .message
            .as_ref()
            .filter(|m| !LongMessage::needed(m, area.width))
        {
            spans.push(Span::styled(
                format!(" {} ", crate::text::sanitize(msg)),
                t.status.patch(t.strong),
            ));
        }
        if let Some((addr, clients)) = &self.app.console {
            let who = match clients {
                0 => "no client yet".to_owned(),
                1 => "1 client".to_owned(),
                n => format!("{n} clients"),
            };
            spans.push(Span::styled(
                format!(" console {addr} · {who} "),
                t.status.patch(t.strong),
            ));
        }
        let hints = if self.app.browser.filtering && self.app.lesson.is_none() {
            vec![("type", "to filter"), ("Enter", "open"), ("Esc", "clear")]
        } else {
            keymap::status_hints(self.app.focus())
        };
        // The ways out and to the help are Everywhere keys: they stay in sight at the right end,
        // whatever the pane's own hints leave of the width.
        let (pinned, own): (Vec<_>, Vec<_>) = hints
            .into_iter()
            .partition(|(key, _)| matches!(*key, "?" | "q"));
        let hint_spans = |list: Vec<(&str, &str)>| -> Vec<Span<'static>> {
            list.into_iter()
                .flat_map(|(key, what)| {
                    [
                        Span::styled(format!(" {key}"), t.key),
                        Span::styled(format!(" {what} "), t.status),
                    ]
                })
                .collect()
        };
        spans.extend(hint_spans(own));
        let right = Line::from(hint_spans(pinned));
        let right_w = (right.width() as u16).min(area.width);
        let left = Rect {
            width: area.width - right_w,
            ..area
        };
        Paragraph::new(Line::from(spans))
            .style(t.status)
            .render(left, buf);
        Paragraph::new(right).style(t.status).render(
            Rect {
                x: area.x + left.width,
                width: right_w,
                ..area
            },
            buf,
        );
    }
}

/// A message longer than the status line leaves room for is drawn whole, wrapped in a box just
/// above it, until the next key clears it (a warning must say where a set-aside file went).
pub struct LongMessage<'a> {
    pub text: &'a str,
    pub theme: &'a Theme,
}

impl LongMessage<'_> {
    /// Does `text` need the box at this width (more than half the status line)?
    pub fn needed(text: &str, width: u16) -> bool {
        text.chars().count() + 2 > usize::from(width) / 2
    }
}

impl Widget for &LongMessage<'_> {
    /// `area` is the status line; the box grows upwards from it.
    fn render(self, area: Rect, buf: &mut Buffer) {
        use ratatui::widgets::{Block, Borders, Clear, Wrap};
        let text = crate::text::sanitize(self.text);
        let para = Paragraph::new(text.as_ref()).wrap(Wrap { trim: true });
        let inner_w = area.width.saturating_sub(2).max(1);
        let rows = (para.line_count(inner_w) as u16)
            .min(area.y.saturating_sub(2))
            .max(1);
        let h = rows + 2;
        let boxed = Rect {
            y: area.y.saturating_sub(h),
            height: h.min(area.y),
            ..area
        };
        Clear.render(boxed, buf);
        para.style(self.theme.strong)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(self.theme.border_focused),
            )
            .render(boxed, buf);
    }
}
