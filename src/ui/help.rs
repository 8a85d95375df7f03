//! The help overlay, generated from the keymap so it cannot drift from what the keys do.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::app::keymap::{KEYMAP, Scope};

pub struct Help<'a> {
    pub theme: &'a Theme,
    /// Lines scrolled past (↑/↓ while the overlay shows).
    pub scroll: usize,
}

impl Widget for &Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let w = area.width.min(96);
        let h = area
            .height
            .min((KEYMAP.len() + super::theme::LEGEND.len()) as u16 + 12);
        let popup = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        Clear.render(popup, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(
                " Keys — ↑/↓ scroll · ? or Esc closes ",
                t.title,
            ));
        let mut lines = Vec::new();
        let scopes = [
            Scope::Everywhere,
            Scope::List,
            Scope::Lesson,
            Scope::Code,
            Scope::Timeline,
            Scope::Params,
            Scope::Practice,
            Scope::RuntimeChoice,
        ];
        for scope in scopes {
            lines.push(Line::styled(scope.title(), t.heading));
            for b in KEYMAP.iter().filter(|b| b.scope == scope) {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<10}", b.label), t.key),
                    Span::styled(b.help, t.base),
                ]));
            }
        }
        lines.push(Line::styled("Glyphs", t.heading));
        for (glyph, meaning) in super::theme::LEGEND {
            lines.push(Line::from(vec![
                Span::styled(format!("  {glyph:<10}"), t.key),
                Span::styled(*meaning, t.base),
            ]));
        }
        // Scrolled in wrapped rows, not lines: a long line wraps, and the last rows must still
        // be reachable.
        let text = Paragraph::new(lines).wrap(Wrap { trim: false });
        let inner = block.inner(popup);
        let last = text
            .line_count(inner.width)
            .saturating_sub(usize::from(inner.height));
        let skip = u16::try_from(self.scroll.min(last)).unwrap_or(u16::MAX);
        text.scroll((skip, 0)).block(block).render(popup, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binding_shows_in_the_help_overlay() {
        let area = ratatui::layout::Rect::new(0, 0, 100, 80);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        let theme = crate::ui::theme::Theme::new(crate::app::Palette::Dark, true);
        ratatui::widgets::Widget::render(
            &crate::ui::help::Help {
                theme: &theme,
                scroll: 0,
            },
            area,
            &mut buf,
        );
        let text: String = buf.content().iter().map(|c| c.symbol()).collect();
        for b in KEYMAP {
            assert!(
                text.contains(b.help),
                "`{}` is missing from the help overlay",
                b.help
            );
        }
    }

    /// The legend is at the end of the overlay: scrolled all the way down on an 80×24 screen,
    /// every glyph shows beside its meaning.
    #[test]
    fn the_glyph_legend_shows_at_the_end_of_the_help_overlay() {
        let area = ratatui::layout::Rect::new(0, 0, 80, 24);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        let theme = crate::ui::theme::Theme::new(crate::app::Palette::Dark, true);
        ratatui::widgets::Widget::render(
            &crate::ui::help::Help {
                theme: &theme,
                scroll: usize::MAX,
            },
            area,
            &mut buf,
        );
        let rows: Vec<String> = (0..area.height)
            .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol()).collect())
            .collect();
        let text = rows.join("\n");
        assert!(text.contains("Glyphs"), "{text}");
        for (glyph, meaning) in crate::ui::theme::LEGEND {
            // A long meaning wraps: its first words are on the glyph's row.
            let start: String = meaning.chars().take(30).collect();
            let row = format!("  {glyph:<10}{start}");
            assert!(
                rows.iter().any(|r| r.contains(&row)),
                "`{glyph}` ({meaning}) is missing from the help overlay:\n{text}"
            );
        }
    }
}
