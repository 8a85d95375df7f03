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
use crate::app::run_view::Group;
use crate::app::{RunStatus, RunView};
use crate::demo::timeline::narrate::narrate;
use crate::demo::timeline::{
    Cell, SeriesValue, TaskId, TaskRecord, TimeScale, TimelineSnapshot, fmt_ms,
};

pub struct TimelinePane<'a> {
    pub run: &'a RunView,
    /// A line of the shown source picked in the code pane: its events are highlighted.
    pub line: Option<u32>,
    /// A line under the axis telling the event under the cursor in words. Practice draws a run
    /// as evidence with the learner's guess as the cursor, where a story of events would mislead.
    pub narrate: bool,
    pub theme: &'a Theme,
}

/// Series drawn as strips under the lanes, at most this many.
const MAX_STRIPS: usize = 3;

/// A row of the lane area: a group's header (when there are several) or one of its lanes.
#[derive(Clone, Copy)]
enum Row<'a> {
    Header(usize, Group<'a>),
    Lane(usize, &'a TaskRecord),
}

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
        let event = run.cursor_event();
        let narration_h = u16::from(self.narrate && event.is_some() && area.height >= 8);
        let strips: Vec<(&String, &Vec<(f64, SeriesValue)>)> =
            snap.series.iter().take(MAX_STRIPS).collect();
        let strips_h = (strips.len() as u16).min(area.height.saturating_sub(4 + narration_h));
        let lanes_h = area.height.saturating_sub(1 + strips_h + 2 + narration_h);

        // Header: totals, status, cursor.
        header(run, snap, area, buf, t);

        // One scale over every group: the longest run sets it, so lengths compare by eye.
        let scale = TimeScale::new(w0, w1, usize::from(lane_w));
        let cursor_col = run
            .cursor_ms
            .and_then(|c| scale.column(c))
            .map(|c| c as u16);

        let groups = run.groups();
        let headed = groups.len() > 1;
        let total_rows: usize = groups
            .iter()
            .map(|g| g.snap.tasks.len() + usize::from(headed))
            .sum();
        // When rows overflow, the last row says how many more there are (↑/↓ scroll).
        let overflow = total_rows > lanes_h as usize;
        let shown = if overflow {
            lanes_h.saturating_sub(1)
        } else {
            lanes_h
        } as usize;
        let first = run.lane_scroll.min(total_rows.saturating_sub(shown));
        let line_events = self.line_events();
        for (row, r) in rows(&groups, headed, first).take(shown).enumerate() {
            let y = area.y + 1 + row as u16;
            match r {
                Row::Header(g, group) => {
                    let style = if g == run.shown { t.title } else { t.strong };
                    let mark = if g == run.shown { "▸ " } else { "▹ " };
                    let text = format!("{mark}{}", group.header());
                    buf.set_stringn(area.x, y, text, area.width as usize, style);
                }
                Row::Lane(g, task) => {
                    let name = crate::text::sanitize(&task.name);
                    let alive_at_cursor =
                        g == run.shown && run.cursor_ms.is_some_and(|c| task.is_alive_at(c));
                    let name_style = if alive_at_cursor { t.strong } else { t.base };
                    buf.set_stringn(area.x, y, name.as_ref(), name_w as usize, name_style);
                    let group = groups[g].snap;
                    draw_lane(task, group, &scale, lane_x, y, buf, t);
                    if g == run.shown {
                        for &(_, at) in line_events.iter().filter(|(id, _)| *id == task.id) {
                            if let Some(c) = scale.column(at) {
                                buf[(lane_x + c as u16, y)].set_style(t.marked_line);
                            }
                        }
                    }
                    if let Some(c) = cursor_col {
                        buf[(lane_x + c, y)].set_style(t.cursor);
                    }
                    let (glyph, style) = t.outcome(task.outcome);
                    buf.set_string(lane_x + lane_w + 1, y, glyph, style);
                }
            }
        }
        if overflow && lanes_h > 0 {
            let hidden = total_rows - shown;
            let more = format!("… {hidden} more rows (↑/↓ scroll)");
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
        if let (Some(e), 1) = (event, narration_h) {
            let mut text = narrate(snap, e);
            if headed {
                text = format!("{}: {text}", run.runs[run.shown].0);
            }
            let text = crate::text::sanitize(&text);
            let y = area.bottom() - 1;
            buf.set_stringn(area.x, y, "» ", 2, t.key);
            buf.set_stringn(area.x + 2, y, text, area.width as usize - 2, t.strong);
        }
    }
}

impl TimelinePane<'_> {
    /// The shown run's events on the picked line, as (task, instant).
    fn line_events(&self) -> Vec<(TaskId, f64)> {
        let (Some(line), Some(index)) = (self.line, self.run.index()) else {
            return Vec::new();
        };
        index
            .line_events(line)
            .iter()
            .filter_map(|&i| index.event(i as usize))
            .filter_map(|e| Some((e.task?, e.t_ms)))
            .collect()
    }
}

/// The rows from `first` on, without walking the groups' lanes before it.
fn rows<'a>(
    groups: &[Group<'a>],
    headed: bool,
    first: usize,
) -> impl Iterator<Item = Row<'a>> + 'a {
    let mut skip = first;
    let mut out: Vec<(usize, Group<'a>, bool, usize)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let len = group.snap.tasks.len() + usize::from(headed);
        if skip >= len {
            skip -= len;
            continue;
        }
        // (group, its rows from `skip`): whether the header is among them, the first lane.
        let with_header = headed && skip == 0;
        let lane0 = skip.saturating_sub(usize::from(headed));
        out.push((g, *group, with_header, lane0));
        skip = 0;
    }
    out.into_iter().flat_map(|(g, group, with_header, lane0)| {
        with_header
            .then_some(Row::Header(g, group))
            .into_iter()
            .chain(
                group.snap.tasks[lane0..]
                    .iter()
                    .map(move |t| Row::Lane(g, t)),
            )
    })
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
    if let Some(c) = run.cursor_ms {
        // Counted in O(log n) from the index once the run finished.
        let (running, alive) = match run.index() {
            Some(x) => (x.running_at(c), x.alive_at(c)),
            None => (
                snap.tasks.iter().filter(|x| x.is_running_at(c)).count(),
                snap.tasks.iter().filter(|x| x.is_alive_at(c)).count(),
            ),
        };
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
        if run.runs.len() > 1 {
            let name = run.runs.get(run.shown).map_or("", |(n, _)| n);
            s = format!("{name} {s} (v next)");
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
            narrate: true,
            line: None,
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
            narrate: true,
            line: None,
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
