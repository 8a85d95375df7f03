//! The timeline: a lane per task, outcome glyphs, series strips, an axis with units and the time
//! cursor. Lanes are `demo::timeline::lane_cells` on the visible window — the rasteriser `run`'s
//! text output uses too — drawn as █ running, ╎ a short poll, ─ waiting, ◆ a mark. A frame costs
//! what is visible: only the lanes on screen are drawn, and each lane's polls are searched, not
//! scanned, for the visible window.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;

use super::theme::Theme;
use crate::app::{RunStatus, RunView};
use crate::demo::timeline::{Cell, SeriesValue, TaskRecord, TimeScale, TimelineSnapshot, fmt_ms};

pub struct TimelinePane<'a> {
    pub run: &'a RunView,
    pub theme: &'a Theme,
}

/// Series drawn as strips under the lanes, at most this many.
const MAX_STRIPS: usize = 3;

impl Widget for &TimelinePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < 8 || area.height < 3 {
            return;
        }
        let run = self.run;
        let t = self.theme;
        let Some(snap) = run.snapshot() else {
            let msg = match run.status {
                RunStatus::Running => "starting…",
                _ => "r runs the demo · c compares variants · Tab to the parameters",
            };
            buf.set_stringn(area.x, area.y, msg, area.width as usize, t.dim);
            return;
        };
        let (w0, w1) = run.visible_window();
        let name_w = (area.width / 4).clamp(4, 16);
        let lane_x = area.x + name_w + 1;
        let lane_w = area.width.saturating_sub(name_w + 3);
        if lane_w < 2 {
            return;
        }
        let strips: Vec<(&String, &Vec<(f64, SeriesValue)>)> =
            snap.series.iter().take(MAX_STRIPS).collect();
        let strips_h = (strips.len() as u16).min(area.height.saturating_sub(4));
        let lanes_h = area.height.saturating_sub(1 + strips_h + 2);

        // Header: variant, totals, cursor.
        header(run, snap, area, buf, t);

        let scale = TimeScale::new(w0, w1, usize::from(lane_w));
        let cursor_col = run
            .cursor_ms
            .and_then(|c| scale.column(c))
            .map(|c| c as u16);

        // When lanes overflow, the last row says how many more there are (↑/↓ scroll).
        let overflow = snap.tasks.len() > lanes_h as usize;
        let shown = if overflow {
            lanes_h.saturating_sub(1)
        } else {
            lanes_h
        } as usize;
        let first = run.lane_scroll.min(snap.tasks.len().saturating_sub(shown));
        for (row, task) in snap.tasks.iter().skip(first).take(shown).enumerate() {
            let y = area.y + 1 + row as u16;
            let name = crate::text::sanitize(&task.name);
            let alive_at_cursor = run.cursor_ms.is_some_and(|c| task.is_alive_at(c));
            let name_style = if alive_at_cursor { t.strong } else { t.base };
            buf.set_stringn(area.x, y, name.as_ref(), name_w as usize, name_style);
            draw_lane(task, snap, &scale, lane_x, y, buf, t);
            if let Some(c) = cursor_col {
                buf[(lane_x + c, y)].set_style(t.cursor);
            }
            let (glyph, style) = t.outcome(task.outcome);
            buf.set_string(lane_x + lane_w + 1, y, glyph, style);
        }
        if overflow && lanes_h > 0 {
            let hidden = snap.tasks.len() - shown;
            let more = format!("… {hidden} more lanes (↑/↓ scroll)");
            buf.set_stringn(area.x, area.y + lanes_h, &more, area.width as usize, t.dim);
        }

        let strips_y = area.y + 1 + lanes_h;
        for (i, (name, points)) in strips.iter().take(strips_h as usize).enumerate() {
            let y = strips_y + i as u16;
            buf.set_stringn(area.x, y, name.as_str(), name_w as usize, t.dim);
            draw_strip(snap, name, points, &scale, lane_x, y, buf, t);
            if let Some(c) = cursor_col {
                buf[(lane_x + c, y)].set_style(t.cursor);
            }
        }
        axis(
            w0,
            w1,
            lane_x,
            strips_y + strips_h,
            lane_w,
            cursor_col,
            buf,
            t,
        );
    }
}

fn header(run: &RunView, snap: &TimelineSnapshot, area: Rect, buf: &mut Buffer, t: &Theme) {
    let mut parts = Vec::new();
    let status = match run.status {
        RunStatus::Running => "running",
        RunStatus::Finished => "finished",
        RunStatus::Cancelled => "cancelled",
        RunStatus::Idle => "",
    };
    // Totals first: on a narrow pane they are what must stay visible.
    if run.totals.is_empty() {
        let name = run.runs.get(run.shown).map_or("", |(n, _)| n);
        parts.push(format!("{name} {}", fmt_ms(snap.now_ms)));
    } else {
        let totals: Vec<String> = run
            .totals
            .iter()
            .map(|(n, ms)| format!("{n} {}", fmt_ms(*ms)))
            .collect();
        parts.push(totals.join(" · "));
    }
    parts.push(status.to_owned());
    if run.runs.len() > 1 {
        let name = run.runs.get(run.shown).map_or("", |(n, _)| n);
        parts.push(format!(
            "lanes: {name} [{}/{}, v next]",
            run.shown + 1,
            run.runs.len()
        ));
    }
    if let Some(c) = run.cursor_ms {
        let running = snap.tasks.iter().filter(|x| x.is_running_at(c)).count();
        let alive = snap.tasks.iter().filter(|x| x.is_alive_at(c)).count();
        let mut s = format!(
            "@{}: {running} running, {} waiting",
            fmt_ms(c),
            alive - running.min(alive)
        );
        for (name, _) in snap.series.iter().take(MAX_STRIPS) {
            if let Some(v) = snap.series_at(name, c) {
                s.push_str(&format!(", {name}={}", value(v)));
            }
        }
        parts.push(s);
    }
    if let Some(e) = &run.error {
        parts.push(crate::text::sanitize(e).into_owned());
    }
    buf.set_stringn(
        area.x,
        area.y,
        parts.join("  "),
        area.width as usize,
        t.title,
    );
}

fn draw_lane(
    task: &TaskRecord,
    snap: &TimelineSnapshot,
    scale: &TimeScale,
    x: u16,
    y: u16,
    buf: &mut Buffer,
    t: &Theme,
) {
    let cells = crate::demo::timeline::lane_cells(task, &snap.marks, scale);
    for (c, cell) in cells.into_iter().enumerate() {
        if let Some((glyph, style)) = glyph(cell, t) {
            buf.set_string(x + c as u16, y, glyph, style);
        }
    }
}

/// The pane's form of a lane cell (nothing for `Absent`); the README's legend lists these.
pub fn glyph(cell: Cell, t: &Theme) -> Option<(&'static str, Style)> {
    Some(match cell {
        Cell::Absent => return None,
        Cell::Waiting => ("─", t.waiting),
        Cell::ShortPoll => ("╎", t.running),
        Cell::Running => ("█", t.running),
        Cell::Mark => ("◆", t.mark),
    })
}

#[allow(clippy::too_many_arguments)] // a drawing helper: position, size and what to draw
fn draw_strip(
    snap: &TimelineSnapshot,
    name: &str,
    points: &[(f64, SeriesValue)],
    scale: &TimeScale,
    x: u16,
    y: u16,
    buf: &mut Buffer,
    t: &Theme,
) {
    const BARS: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
    let max = points
        .iter()
        .filter_map(|(_, v)| match v {
            SeriesValue::Num(n) => Some(*n),
            SeriesValue::Text(_) => None,
        })
        .fold(0.0_f64, f64::max);
    for c in 0..scale.cols {
        let (at, _) = scale.bounds(c);
        let x = x + c as u16;
        let Some(v) = snap.series_at(name, at) else {
            continue;
        };
        match v {
            SeriesValue::Num(n) => {
                let level = if max > 0.0 {
                    (n / max * 7.0).round() as usize
                } else {
                    0
                };
                let glyph = if *n <= 0.0 { " " } else { BARS[level.min(7)] };
                buf.set_string(x, y, glyph, t.code);
            }
            SeriesValue::Text(s) => {
                let glyph: String = s.chars().next().map_or(String::new(), |ch| ch.to_string());
                buf.set_string(x, y, glyph, t.code);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)] // a drawing helper: position, size and what to draw
fn axis(
    w0: f64,
    w1: f64,
    x: u16,
    y: u16,
    width: u16,
    cursor: Option<u16>,
    buf: &mut Buffer,
    t: &Theme,
) {
    let line: String = (0..width)
        .map(|c| {
            if c == 0 || c + 1 == width || c == width / 2 {
                '┼'
            } else {
                '─'
            }
        })
        .collect();
    buf.set_string(x, y, &line, t.dim);
    if let Some(c) = cursor {
        buf.set_string(x + c, y, "▲", t.title);
    }
    let left = fmt_ms(w0);
    let right = fmt_ms(w1);
    let mid = fmt_ms((w0 + w1) / 2.0);
    let y = y + 1;
    buf.set_stringn(x, y, &left, width as usize, t.dim);
    let rx = x + width.saturating_sub(right.chars().count() as u16);
    buf.set_string(rx, y, &right, t.dim);
    let mw = mid.chars().count() as u16;
    let mx = x + (width / 2).saturating_sub(mw / 2);
    if mx > x + left.chars().count() as u16 + 1 && mx + mw + 1 < rx {
        buf.set_string(mx, y, &mid, t.dim);
    }
}

fn value(v: &SeriesValue) -> String {
    match v {
        SeriesValue::Num(n) if n.fract() == 0.0 => format!("{n}"),
        SeriesValue::Num(n) => format!("{n:.1}"),
        SeriesValue::Text(s) => crate::text::sanitize(s).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Palette;
    use crate::demo::Outcome;

    fn task(
        id: u32,
        name: &str,
        spawned: f64,
        finished: f64,
        polls: Vec<(f64, f64)>,
    ) -> TaskRecord {
        TaskRecord {
            id,
            name: name.into(),
            parent: None,
            spawned_ms: spawned,
            finished_ms: Some(finished),
            outcome: Outcome::Ok,
            detail: String::new(),
            polls,
            line: None,
        }
    }

    fn view(cursor: Option<f64>) -> RunView {
        let snap = TimelineSnapshot {
            tasks: vec![
                task(1, "a", 0.0, 50.0, vec![(0.0, 20.0)]),
                task(2, "b", 20.0, 100.0, vec![(20.0, 20.0), (90.0, 100.0)]),
            ],
            now_ms: 100.0,
            ..TimelineSnapshot::default()
        };
        let mut run = RunView::finished(vec![("v", snap, 100.0)], None);
        run.cursor_ms = cursor;
        run
    }

    #[test]
    fn lanes_axis_and_outcomes_cell_by_cell() {
        let theme = Theme::new(Palette::Dark, true);
        let run = view(None);
        // 17 wide: names 4, a space, 10 lane columns of 10 ms, a space, the outcome glyph.
        let area = Rect::new(0, 0, 17, 5);
        let mut buf = Buffer::empty(area);
        (&TimelinePane {
            run: &run,
            theme: &theme,
        })
            .render(area, &mut buf);
        let expected = Buffer::with_lines([
            "v 100 ms  finishe",
            "a    ██───      ✓",
            "b      ╎──────█ ✓",
            "     ┼────┼───┼  ",
            "     0 ms100 ms  ",
        ]);
        let symbols = |b: &Buffer| {
            b.content()
                .iter()
                .map(|c| c.symbol().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(symbols(&buf), symbols(&expected));
    }

    #[test]
    fn the_cursor_column_is_marked_on_every_lane_and_the_axis() {
        let theme = Theme::new(Palette::Dark, true);
        let run = view(Some(40.0));
        let area = Rect::new(0, 0, 17, 5);
        let mut buf = Buffer::empty(area);
        (&TimelinePane {
            run: &run,
            theme: &theme,
        })
            .render(area, &mut buf);
        // Column 4 of the lanes (40..50 ms) is reversed on both lanes; the axis shows ▲ there.
        assert_eq!(buf[(5 + 4, 1)].modifier, theme.cursor.add_modifier);
        assert_eq!(buf[(5 + 4, 2)].modifier, theme.cursor.add_modifier);
        assert_eq!(buf[(5 + 4, 3)].symbol(), "▲");
        assert_eq!(buf[(5 + 3, 1)].modifier, ratatui::style::Modifier::empty());
    }
}
