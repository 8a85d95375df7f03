//! The demo's parameters and variants: ↑/↓ choose, +/- change, Space picks variants to compare.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use crate::app::DemoPanel;

pub struct ParamsPane<'a> {
    pub demo: Option<&'a DemoPanel>,
    pub focused: bool,
    pub theme: &'a Theme,
}

impl ParamsPane<'_> {
    /// Rows the pane wants: one per parameter and one for the variants.
    pub fn rows(demo: Option<&DemoPanel>) -> u16 {
        demo.map_or(1, |d| d.demo.spec().params.len() as u16 + 1)
    }
}

impl Widget for &ParamsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let Some(d) = self.demo else {
            Paragraph::new(Line::styled("this lesson has no demo", t.dim)).render(area, buf);
            return;
        };
        let spec = d.demo.spec();
        let mut lines: Vec<Line> = Vec::new();
        for (i, p) in spec.params.iter().enumerate() {
            let selected = self.focused && d.selected_param == i;
            let value = d
                .params
                .get(p.name)
                .map(ToString::to_string)
                .unwrap_or_default();
            let style = if selected { t.selected } else { t.base };
            lines.push(Line::from(vec![
                Span::styled(format!("{:<16}", p.name), style),
                Span::styled(
                    format!(" {value}"),
                    if selected { t.selected } else { t.code },
                ),
                Span::styled(format!("  {}", p.help), t.dim),
            ]));
        }
        let mut spans = vec![Span::styled("variants        ", t.base)];
        for (j, (name, on)) in d.variants.iter().enumerate() {
            let selected = self.focused && d.selected_param == spec.params.len() + j;
            let mark = if *on { "[x]" } else { "[ ]" };
            let style = if selected {
                t.selected
            } else if *on {
                t.strong
            } else {
                t.dim
            };
            spans.push(Span::styled(format!(" {mark} {name}"), style));
        }
        spans.push(Span::styled(format!("   clock: {}", d.clock.name()), t.dim));
        // The runtime is offered only for a demo with an asyncio twin (`a` switches it).
        if crate::demo::asyncio::twin(spec.id).is_some() {
            spans.push(Span::styled(
                format!("   runtime: {}", d.runtime.name()),
                t.dim,
            ));
        }
        lines.push(Line::from(spans));
        // Keep the selected row visible when the pane is short.
        let skip = if self.focused {
            (d.selected_param + 1).saturating_sub(area.height as usize)
        } else {
            0
        };
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()).render(area, buf);
    }
}
