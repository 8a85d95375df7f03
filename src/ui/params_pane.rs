//! How the demo will run (clock, runtime), its parameters and variants: ↑/↓ choose a row, +/-
//! change a parameter or move along the variants, Space ticks a variant.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::app::DemoPanel;
use crate::app::params_panel::RunOn;

pub struct ParamsPane<'a> {
    pub demo: Option<&'a DemoPanel>,
    pub focused: bool,
    pub theme: &'a Theme,
}

impl ParamsPane<'_> {
    /// Rows the pane wants: the clock and runtime, one per parameter and one for the variants.
    pub fn rows(demo: Option<&DemoPanel>) -> u16 {
        demo.map_or(1, |d| d.demo.spec().params.len() as u16 + 2)
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
        // How it will run comes first and stays put while the rows below scroll: a long variants
        // row must never push the clock or the runtime out of sight.
        let mut how = vec![
            Span::styled("clock ", t.dim),
            Span::styled(d.clock.name(), t.strong),
            Span::styled(" (t)", t.dim),
        ];
        // The runtime is offered only for a demo with an asyncio twin (`a` switches it).
        if crate::demo::asyncio::twin(spec.id).is_some() {
            how.extend([
                Span::styled("   runtime ", t.dim),
                Span::styled(d.runtime.name(), t.strong),
                Span::styled(" (a)", t.dim),
            ]);
        }
        Paragraph::new(Line::from(how)).render(Rect { height: 1, ..area }, buf);
        let area = Rect {
            y: area.y + 1,
            height: area.height.saturating_sub(1),
            ..area
        };
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
        let on_row = self.focused && d.on_variants_row();
        // On asyncio a variant goes by its asyncio name too, as the run's groups will.
        let on_asyncio = d.runtime == RunOn::Asyncio;
        for (j, (name, on)) in d.variants.iter().enumerate() {
            let selected = on_row && d.selected_variant == j;
            // `›` shows, even unfocused, the variant `r` runs.
            let mark = match (*on, d.selected_variant == j) {
                (true, true) => "›[x]",
                (false, true) => "›[ ]",
                (true, false) => " [x]",
                (false, false) => " [ ]",
            };
            let style = if selected {
                t.selected
            } else if *on {
                t.strong
            } else {
                t.dim
            };
            let name = if on_asyncio {
                crate::demo::asyncio::variant_label(spec.id, name)
            } else {
                (*name).to_owned()
            };
            spans.push(Span::styled(format!("{mark} {name}"), style));
        }
        // Keep the selected row visible when the pane is short.
        let skip = if self.focused {
            (d.selected_param + 1).saturating_sub(area.height as usize)
        } else {
            0
        };
        let shown: Vec<Line> = lines.into_iter().skip(skip).collect();
        let params_h = (shown.len() as u16).min(area.height);
        Paragraph::new(shown).render(
            Rect {
                height: params_h,
                ..area
            },
            buf,
        );
        // The variants row wraps rather than hide variants past the pane's edge.
        Paragraph::new(Line::from(spans))
            .wrap(Wrap { trim: false })
            .render(
                Rect {
                    y: area.y + params_h,
                    height: area.height - params_h,
                    ..area
                },
                buf,
            );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Palette;

    #[test]
    fn the_clock_and_the_runtime_stay_in_sight_whatever_the_width_of_the_variants() {
        let lesson = crate::lesson::load_dir(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/valid")),
            &crate::demo::Registry,
        )
        .expect("fixture lessons")
        .lessons
        .remove(0);
        let mut panel = DemoPanel::for_lesson(&lesson, 0, RunOn::Tokio).expect("gather");
        panel.selected_param = 1; // the variants row, focused: the pane scrolls to it
        let theme = Theme::new(Palette::Dark, true);
        let pane = ParamsPane {
            demo: Some(&panel),
            focused: true,
            theme: &theme,
        };
        // As narrow as a 120-column lesson layout gives it, and two rows high.
        let area = Rect::new(0, 0, 40, 2);
        let mut buf = Buffer::empty(area);
        (&pane).render(area, &mut buf);
        let row = |y| -> String { (0..40).map(|x| buf[(x, y)].symbol().to_owned()).collect() };
        assert!(row(0).contains("clock real"), "{:?}", row(0));
        assert!(row(0).contains("runtime tokio"), "{:?}", row(0));
        assert!(
            row(1).contains("variants"),
            "the selected row is shown: {:?}",
            row(1)
        );
    }

    #[test]
    fn on_asyncio_the_variants_row_names_each_variant_as_asyncio_does() {
        let lesson = crate::lesson::load_dir(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/valid")),
            &crate::demo::Registry,
        )
        .expect("fixture lessons")
        .lessons
        .remove(0);
        let theme = Theme::new(Palette::Dark, true);
        let row = |runtime: RunOn| -> String {
            let panel = DemoPanel::for_lesson(&lesson, 0, runtime).expect("gather");
            let pane = ParamsPane {
                demo: Some(&panel),
                focused: false,
                theme: &theme,
            };
            let area = Rect::new(0, 0, 120, 4);
            let mut buf = Buffer::empty(area);
            (&pane).render(area, &mut buf);
            buf.content().iter().map(|c| c.symbol()).collect()
        };
        let asyncio = row(RunOn::Asyncio);
        assert!(asyncio.contains("runtime asyncio"), "{asyncio}");
        for name in ["join-all (gather)", "join-set (TaskGroup)"] {
            assert!(asyncio.contains(name), "{name} in {asyncio}");
        }
        let tokio = row(RunOn::Tokio);
        assert!(
            tokio.contains(" join-all ") && !tokio.contains("gather)"),
            "{tokio}"
        );
    }
}
