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
        if let Some(msg) = &self.app.message {
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
        for (key, what) in hints {
            spans.push(Span::styled(format!(" {key}"), t.key));
            spans.push(Span::styled(format!(" {what} "), t.status));
        }
        Paragraph::new(Line::from(spans))
            .style(t.status)
            .render(area, buf);
    }
}
