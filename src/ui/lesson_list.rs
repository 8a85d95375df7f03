//! The lesson browser: lessons grouped by the guide's sections, with a filter.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::theme::Theme;
use crate::app::{App, Pane};

pub struct LessonList<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl Widget for &LessonList<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let app = self.app;
        let title = if app.browser.filtering || !app.browser.filter.is_empty() {
            format!(" {} — filter: {}▏", Pane::List.title(), app.browser.filter)
        } else {
            format!(" {} ", Pane::List.title())
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(title, t.title));
        let inner = block.inner(area);
        block.render(area, buf);
        let filtered = app.filtered();
        if filtered.is_empty() {
            Paragraph::new(Line::styled(
                "no lesson matches the filter (Esc clears it)",
                t.dim,
            ))
            .render(inner, buf);
            return;
        }
        // Lines: a section heading before each section's first lesson.
        let mut lines: Vec<(Line, Option<usize>)> = Vec::new();
        let mut section = None;
        for (row, &i) in filtered.iter().enumerate() {
            let l = &app.lessons[i];
            if section != Some(l.section) {
                section = Some(l.section);
                lines.push((Line::styled(l.section.title(), t.heading), None));
            }
            let demos = if l.demos.is_empty() { "" } else { " ▶" };
            // Progress: ! due, ✓ mastered, · started (see `practice::LessonMark`).
            let (mark, due) = app.marks.get(i).copied().unwrap_or((' ', 0));
            let due = if due > 0 {
                format!("  ({due} due)")
            } else {
                String::new()
            };
            let text = format!(
                "{mark} {:<4} {}{demos}{due}",
                l.label(),
                crate::text::sanitize(&l.title)
            );
            let style = if row == app.browser.selected {
                t.selected
            } else {
                t.base
            };
            lines.push((Line::styled(text, style), Some(row)));
        }
        let height = inner.height as usize;
        let selected_line = lines
            .iter()
            .position(|(_, r)| *r == Some(app.browser.selected))
            .unwrap_or(0);
        let top = selected_line.saturating_sub(height.saturating_sub(1));
        let visible: Vec<Line> = lines
            .into_iter()
            .skip(top)
            .take(height)
            .map(|(l, _)| l)
            .collect();
        Paragraph::new(visible).render(inner, buf);
    }
}

/// Which filtered row a click at `y` (inside the list's inner area) lands on.
pub fn row_at(app: &App, inner: Rect, y: u16) -> Option<usize> {
    let filtered = app.filtered();
    let mut rows: Vec<Option<usize>> = Vec::new();
    let mut section = None;
    for (row, &i) in filtered.iter().enumerate() {
        let l = &app.lessons[i];
        if section != Some(l.section) {
            section = Some(l.section);
            rows.push(None);
        }
        rows.push(Some(row));
    }
    let height = inner.height as usize;
    let selected_line = rows
        .iter()
        .position(|r| *r == Some(app.browser.selected))
        .unwrap_or(0);
    let top = selected_line.saturating_sub(height.saturating_sub(1));
    let offset = y.checked_sub(inner.y)? as usize;
    rows.get(top + offset).copied().flatten()
}
