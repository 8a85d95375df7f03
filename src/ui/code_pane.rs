//! Highlighted code with line numbers, linked to the timeline: the line of the event under the
//! time cursor is highlighted (▶), the lines lanes are at show how many in the gutter, and the
//! line cursor's number is reversed. Colours come from the highlight cache; a source not in it yet
//! is drawn plain while the terminal loop has it highlighted on another thread
//! ([`missing_highlight`]) and redraws. Practice draws a prediction's code with it too, every line
//! its run points at marked as the event's line is.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;
use crate::app::{App, CodeMarks, Palette, Screen};
use crate::highlight;
use crate::lesson::Language;

pub struct CodePane<'a> {
    pub code: &'a str,
    pub language: Language,
    pub scroll: usize,
    pub marks: &'a CodeMarks,
    /// More lines drawn as the event's line is (▶), in order: a practice reveal marks every line
    /// its run's spawns and marks point at, with no time cursor to pick one.
    pub marked: &'a [u32],
    /// The code pane's line cursor.
    pub cursor: Option<u32>,
    /// A line to keep in view (the cursor's, else the event's): the pane scrolls to it when it is
    /// outside the stored scroll, without changing the state.
    pub follow: Option<u32>,
    pub theme: &'a Theme,
}

/// The gutter's mark for a line with `n` lanes at it: • for one, the count up to 9, + beyond.
fn lane_count(n: u32) -> char {
    match n {
        0 => ' ',
        1 => '•',
        2..=9 => char::from_digit(n, 10).unwrap_or('+'),
        _ => '+',
    }
}

fn palette(palette: Palette) -> highlight::Palette {
    match palette {
        Palette::Dark => highlight::Palette::Dark,
        Palette::Light => highlight::Palette::Light,
    }
}

/// The highlight the code pane would draw `app`'s screen with and the cache does not hold yet:
/// the terminal loop has it computed off the UI thread, then redraws. Drawing never computes one
/// (the largest twin takes tens of milliseconds, a grammar's first use more).
pub fn missing_highlight(app: &App) -> Option<highlight::Request> {
    if !Theme::new(app.palette, app.no_color).color {
        return None;
    }
    let (code, language) = match app.screen {
        Screen::Lesson => {
            let v = app.lesson.as_ref()?;
            let (code, language, _) = v.code_text(app.lessons.get(v.index)?);
            (code, language)
        }
        // A prediction's code, drawn beside its prompt.
        Screen::Practice => {
            let source = app.practice.code.as_ref()?.code.source;
            (&*source.text, source.language)
        }
        _ => return None,
    };
    let palette = palette(app.palette);
    if code.is_empty() || highlight::cached(code, language, palette).is_some() {
        return None;
    }
    Some(highlight::Request::new(code, language, palette))
}

impl Widget for &CodePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let highlighted = if t.color {
            highlight::cached(self.code, self.language, palette(t.palette))
        } else {
            None
        };
        let total = self.code.lines().count();
        let rows = usize::from(area.height).max(1);
        let mut scroll = self.scroll.min(total.saturating_sub(1));
        if let Some(l) = self.follow.map(|l| l as usize - 1)
            && !(scroll..scroll + rows).contains(&l)
        {
            scroll = l.saturating_sub(rows / 3);
        }
        let width = total.to_string().len();
        let lines: Vec<Line> = self
            .code
            .lines()
            .enumerate()
            .skip(scroll)
            .take(area.height as usize)
            .map(|(i, text)| {
                let n = i as u32 + 1;
                let marked = self.marks.event == Some(n) || self.marked.binary_search(&n).is_ok();
                let lanes = self
                    .marks
                    .lanes
                    .iter()
                    .find(|l| l.line == n)
                    .map_or(0, |l| l.count);
                let gutter = if marked { '▶' } else { lane_count(lanes) };
                let number_style = if self.cursor == Some(n) {
                    t.cursor
                } else if marked || lanes > 0 {
                    t.mark
                } else {
                    t.dim
                };
                let mut spans = vec![
                    Span::styled(gutter.to_string(), if marked { t.mark } else { t.key }),
                    Span::raw(" "),
                    Span::styled(format!("{:>width$}", n), number_style),
                    Span::raw(" "),
                ];
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
