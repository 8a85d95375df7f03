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
        let hint = |(key, what): (&str, &str)| -> [Span<'static>; 2] {
            [
                Span::styled(format!(" {key}"), t.key),
                Span::styled(format!(" {what} "), t.status),
            ]
        };
        let right = Line::from(pinned.into_iter().flat_map(hint).collect::<Vec<_>>());
        let right_w = (right.width() as u16).min(area.width);
        let left = Rect {
            width: area.width - right_w,
            ..area
        };
        // The pane's hints in order, each whole or not at all (a hint cut mid-word reads as
        // another one): one too long for what is left gives way to the shorter ones after it.
        // A hint's last space is padding, which the pinned hints may take.
        let mut used: usize = spans.iter().map(Span::width).sum();
        for h in own.into_iter().map(hint) {
            let w: usize = h.iter().map(Span::width).sum();
            if used + w - 1 > usize::from(left.width) {
                continue;
            }
            used += w;
            spans.extend(h);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Action, Pane};

    /// The status line at 80 columns, with the hints of `pane` it could show.
    fn status_at_80(app: &App) -> String {
        let area = Rect::new(0, 0, 80, 1);
        let mut buf = Buffer::empty(area);
        let theme = Theme::new(crate::app::Palette::Dark, true);
        (&StatusBar { app, theme: &theme }).render(area, &mut buf);
        (0..80).map(|x| buf[(x, 0)].symbol()).collect()
    }

    #[test]
    fn at_80_columns_the_status_line_shows_whole_hints_only() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
        let mut app = App::new(
            crate::lesson::load_dir(&dir, &crate::demo::Registry).expect("fixture lessons"),
            true,
        );
        let mut seen = Vec::new();
        // The lesson list, then each pane of a lesson in turn.
        for step in [
            None,
            Some(Action::Open),
            Some(Action::NextPane),
            Some(Action::NextPane),
        ] {
            if let Some(action) = step {
                let _ = app.update(action);
            }
            let pane: Pane = app.focus();
            let status = status_at_80(&app);
            let (left, pinned) = status
                .split_once(" ? this help")
                .unwrap_or_else(|| panic!("the help hint stays: {status:?}"));
            assert!(pinned.trim_end().ends_with("q quit"), "{status:?}");
            let own: Vec<String> = keymap::status_hints(pane)
                .into_iter()
                .filter(|(key, _)| !matches!(*key, "?" | "q"))
                .map(|(key, what)| format!(" {key} {what} "))
                .collect();
            // Whole hints, in order, some left out.
            let mut rest = left.trim_end();
            for h in &own {
                rest = rest.strip_prefix(h.as_str()).unwrap_or(rest);
            }
            let last = own.iter().any(|h| rest == h.trim_end());
            assert!(
                rest.is_empty() || last,
                "{pane:?}: {left:?} is not whole hints of {own:?}"
            );
            seen.push(own.concat().chars().count() > 80);
        }
        assert!(seen.contains(&true), "some pane has more hints than fit");
    }
}
