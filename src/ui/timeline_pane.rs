//! The timeline: a lane per task, outcome glyphs, series strips, an axis with units and the time
//! cursor. Lanes are `demo::timeline::lane_cells` on the visible window — the rasteriser `run`'s
//! text output uses too — drawn as █ running, ╎ a short poll, ░ scheduled, ─ waiting (┄ ◦ ≈ ═ by
//! what woke it), _ not started, ◆ a mark. At the cursor, the wake that made the task under it run
//! is drawn as a connector from the waker's lane to the woken lane. A frame costs what is
//! visible: only the lanes on screen are drawn, each lane's polls are searched, not scanned, for
//! the visible window, and its wakes come from an index built once per snapshot.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;

use super::theme::Theme;
use crate::app::run_view::Group;
use crate::app::{RunStatus, RunView};
use crate::demo::timeline::index::EventKind;
use crate::demo::timeline::narrate::narrate;
use crate::demo::timeline::wakes::{self, READY};
use crate::demo::timeline::{
    Cell, SeriesValue, TaskId, TaskRecord, TimeScale, TimelineSnapshot, WakeCause, Woken, fmt_ms,
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

/// A run's own series drawn as strips under the lanes, at most this many (the built-in `ready`
/// strip comes on top of them).
const MAX_STRIPS: usize = 3;

/// A row of the lane area: a group's header (when there are several), one of its lanes, or (when
/// there are several) one of its series strips, under its own lanes.
#[derive(Clone, Copy)]
enum Row<'a> {
    Header(usize, Group<'a>),
    /// Group, the task's position in its run, the task.
    Lane(usize, usize, &'a TaskRecord),
    Strip(usize, &'a str),
}

/// The series strips a run shows: the ready queue first (the loop's own), then the run's series
/// in name order.
fn strips_of(snap: &TimelineSnapshot) -> impl Iterator<Item = (&str, &[(f64, SeriesValue)])> {
    let ready = snap.series.get_key_value(READY);
    ready
        .into_iter()
        .chain(own_series(snap))
        .map(|(n, p)| (n.as_str(), p.as_slice()))
}

/// The run's own series (not the built-in ready queue), as many as are drawn.
fn own_series(
    snap: &TimelineSnapshot,
) -> impl Iterator<Item = (&String, &Vec<(f64, SeriesValue)>)> {
    snap.series
        .iter()
        .filter(|(n, _)| n.as_str() != READY)
        .take(MAX_STRIPS)
}

/// Rows the pane needs to show `run` whole: its header line, every group's rows, the pinned
/// strips of a single run, and the axis (two rows). The narration, when drawn, takes one more.
pub fn rows_wanted(run: &RunView) -> u16 {
    let groups = run.groups();
    let headed = groups.len() > 1;
    let lanes: usize = groups.iter().map(|g| group_rows(g, headed)).sum();
    let pinned = if headed {
        0
    } else {
        run.snapshot().map_or(0, |s| strips_of(s).count())
    };
    u16::try_from(1 + lanes + pinned + 2).unwrap_or(u16::MAX)
}

/// How many rows a group takes in the lane area.
fn group_rows(group: &Group<'_>, headed: bool) -> usize {
    let strips = if headed {
        strips_of(group.snap).count()
    } else {
        0
    };
    usize::from(headed) + group.snap.tasks.len() + strips
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
                _ => {
                    "r runs the variant marked › · c compares the ticked ones · Tab to the parameters"
                }
            };
            buf.set_stringn(area.x, area.y, msg, area.width as usize, t.dim);
            return;
        };
        let (w0, w1) = run.visible_window();
        let event = run.cursor_event();
        let narration_h = u16::from(self.narrate && event.is_some() && area.height >= 8);
        let groups = run.groups();
        let headed = groups.len() > 1;
        // One run: its strips stay under the lanes while they scroll. Several: each run's strips
        // follow its own lanes, so every variant's series is seen, on one scale per measure.
        let strips: Vec<(&str, &[(f64, SeriesValue)])> = if headed {
            Vec::new()
        } else {
            strips_of(snap).collect()
        };
        let strips_h = (strips.len() as u16).min(area.height.saturating_sub(4 + narration_h));
        let total_rows: usize = groups.iter().map(|g| group_rows(g, headed)).sum();
        // The lanes take what they need, and the strips, axis and narration follow right under
        // them: on a tall pane a few lanes no longer sit forty rows above their series.
        let room = area.height.saturating_sub(1 + strips_h + 2 + narration_h);
        let lanes_h = room.min(u16::try_from(total_rows).unwrap_or(u16::MAX));
        // When rows overflow, the last row says how many more there are (↑/↓ scroll).
        let overflow = total_rows > lanes_h as usize;
        let shown = if overflow {
            lanes_h.saturating_sub(1)
        } else {
            lanes_h
        } as usize;
        let first = run.lane_scroll.min(total_rows.saturating_sub(shown));
        let visible: Vec<Row> = rows(&groups, headed, first).take(shown).collect();

        // The name column fits the names and strip labels on screen, up to a quarter of the pane.
        let widest = visible
            .iter()
            .map(|r| match r {
                Row::Header(..) => 0,
                Row::Lane(_, _, task) => cells(&task.name),
                Row::Strip(_, name) => cells(&strip_label(name, run.series_max.get(*name), 64)),
            })
            .chain(
                strips
                    .iter()
                    .map(|(name, _)| cells(&strip_label(name, run.series_max.get(*name), 64))),
            )
            .max()
            .unwrap_or(0);
        let name_w = u16::try_from(widest)
            .unwrap_or(u16::MAX)
            .clamp(4, (area.width / 4).max(4));
        let lane_x = area.x + name_w + 1;
        let lane_w = area.width.saturating_sub(name_w + 3);
        if lane_w < 2 {
            return;
        }

        // Header: totals, status, cursor.
        header(run, snap, area, buf, t);

        // One scale over every group: the longest run sets it, so lengths compare by eye.
        let scale = TimeScale::new(w0, w1, usize::from(lane_w));
        let cursor_col = run
            .cursor_ms
            .and_then(|c| scale.column(c))
            .map(|c| c as u16);

        let line_events = self.line_events();
        // The wake edge at the cursor: rows of its waker and woken lanes, when on screen.
        let edge = cursor_col.and_then(|c| self.wake_edge(&groups, headed, c, &scale));
        let edge_bounds = edge.map(|(by, woken)| (by.min(woken), by.max(woken)));
        for (row, r) in visible.iter().copied().enumerate() {
            let y = area.y + 1 + row as u16;
            match r {
                Row::Header(g, group) => {
                    let style = if g == run.shown { t.title } else { t.strong };
                    let mark = if g == run.shown { "▸ " } else { "▹ " };
                    let text = format!("{mark}{}", group.header());
                    buf.set_stringn(area.x, y, text, area.width as usize, style);
                }
                Row::Lane(g, pos, task) => {
                    let name = crate::text::sanitize(&task.name);
                    let alive_at_cursor =
                        g == run.shown && run.cursor_ms.is_some_and(|c| task.is_alive_at(c));
                    let name_style = if alive_at_cursor { t.strong } else { t.base };
                    buf.set_stringn(area.x, y, name.as_ref(), name_w as usize, name_style);
                    let group = groups[g];
                    let wakes = group.wakes.lane(group.snap, pos);
                    draw_lane(task, wakes, group.snap, &scale, lane_x, y, buf, t);
                    if g == run.shown {
                        for &(_, at) in line_events.iter().filter(|(id, _)| *id == task.id) {
                            if let Some(c) = scale.column(at) {
                                buf[(lane_x + c as u16, y)].set_style(t.marked_line);
                            }
                        }
                    }
                    if let Some(((by, woken), c)) = edge.zip(cursor_col) {
                        let at = first + row;
                        if at == woken {
                            let arrow = if by < woken { "↓" } else { "↑" };
                            buf.set_string(lane_x + c, y, arrow, t.mark);
                        }
                    }
                    if let Some(c) = cursor_col {
                        buf[(lane_x + c, y)].set_style(t.cursor);
                    }
                    // How it ended, beside a lane the window shows: a lane blank in a zoomed
                    // window (spawned after it, or over before it) gets no end glyph.
                    let in_window =
                        task.spawned_ms <= w1 && task.finished_ms.is_none_or(|f| f >= w0);
                    if in_window {
                        let (glyph, style) = t.outcome(task.outcome);
                        buf.set_string(lane_x + lane_w + 1, y, glyph, style);
                    }
                }
                Row::Strip(g, name) => {
                    let label = strip_label(name, run.series_max.get(name), name_w as usize);
                    buf.set_stringn(area.x, y, label, name_w as usize, t.dim);
                    let max = run.series_max.get(name).copied();
                    draw_strip(groups[g].snap, name, max, &scale, lane_x, y, buf, t);
                    if let Some(c) = cursor_col {
                        buf[(lane_x + c, y)].set_style(t.cursor);
                    }
                }
            }
        }
        // The connector: every row strictly between the two lanes (those on screen) in the
        // cursor's column.
        if let (Some((lo, hi)), Some(c)) = (edge_bounds, cursor_col) {
            for (row, _) in visible.iter().enumerate() {
                let at = first + row;
                if at > lo && at < hi {
                    let y = area.y + 1 + row as u16;
                    buf.set_string(lane_x + c, y, "│", t.mark);
                    buf[(lane_x + c, y)].set_style(t.cursor);
                }
            }
        }
        if overflow && lanes_h > 0 {
            let hidden = total_rows - shown;
            let more = format!("… {hidden} more rows (↑/↓ scroll)");
            buf.set_stringn(area.x, area.y + lanes_h, &more, area.width as usize, t.dim);
        }

        let strips_y = area.y + 1 + lanes_h;
        for (i, (name, _)) in strips.iter().take(strips_h as usize).enumerate() {
            let y = strips_y + i as u16;
            let label = strip_label(name, run.series_max.get(*name), name_w as usize);
            buf.set_stringn(area.x, y, label, name_w as usize, t.dim);
            let max = run.series_max.get(*name).copied();
            draw_strip(snap, name, max, &scale, lane_x, y, buf, t);
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
            let mut text = match run.index() {
                Some(index) => narrate(snap, index, e),
                None => String::new(),
            };
            if headed {
                text = format!("{}: {text}", run.runs[run.shown].label);
            }
            let text = crate::text::sanitize(&text);
            let y = strips_y + strips_h + 2;
            buf.set_stringn(area.x, y, "» ", 2, t.key);
            buf.set_stringn(area.x + 2, y, text, area.width as usize - 2, t.strong);
        }
    }
}

impl TimelinePane<'_> {
    /// The wake at the cursor, as the rows (counted from the first row of the lane area) of its
    /// waker's and its woken task's lanes: the cursor's event when it is a wake, or the wake that
    /// made the poll under the cursor happen when it falls in the cursor's column. Only a wake by
    /// another task has two lanes to join.
    fn wake_edge(
        &self,
        groups: &[Group<'_>],
        headed: bool,
        col: u16,
        scale: &TimeScale,
    ) -> Option<(usize, usize)> {
        let run = self.run;
        let (index, e) = (run.index()?, run.cursor_event()?);
        let snap = run.snapshot()?;
        let woken_pos = wakes::position(snap, e.task?)?;
        let wake = match e.kind {
            EventKind::Wake { wake } => wake as usize,
            EventKind::Poll { nth } => index.wakes().before_poll(woken_pos, nth as usize)?,
            _ => return None,
        };
        let w = snap.wakes.get(wake)?;
        if w.cause != WakeCause::Task || scale.column(w.t_ms) != Some(usize::from(col)) {
            return None;
        }
        let by_pos = wakes::position(snap, w.by?)?;
        if by_pos == woken_pos {
            return None;
        }
        // Rows before the shown group, then its header.
        let before: usize = groups[..run.shown]
            .iter()
            .map(|g| group_rows(g, headed))
            .sum::<usize>()
            + usize::from(headed);
        Some((before + by_pos, before + woken_pos))
    }

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
        let len = group_rows(group, headed);
        if skip >= len {
            skip -= len;
            continue;
        }
        // (group, its rows from `skip`): whether the header is among them, the first lane or
        // strip after it.
        let with_header = headed && skip == 0;
        let row0 = skip.saturating_sub(usize::from(headed));
        out.push((g, *group, with_header, row0));
        skip = 0;
    }
    out.into_iter()
        .flat_map(move |(g, group, with_header, row0)| {
            let lanes = group
                .snap
                .tasks
                .iter()
                .enumerate()
                .map(move |(p, t)| Row::Lane(g, p, t));
            let strips = strips_of(group.snap)
                .filter(move |_| headed)
                .map(move |(name, _)| Row::Strip(g, name));
            with_header
                .then_some(Row::Header(g, group))
                .into_iter()
                .chain(lanes.chain(strips).skip(row0))
        })
}

/// An asyncio run's lanes look like a tokio run's: it says so before anything else, which a
/// narrow pane or long labels would cut (runs of both runtimes say so in each group's label).
fn runtime_prefix(run: &RunView) -> &'static str {
    match run.only_runtime() {
        Some(crate::demo::asyncio::Runtime::Asyncio) => "asyncio: ",
        _ => "",
    }
}

/// Each finished run's total ("asyncio: sequential 600 ms · join-all 300 ms"), if any finished.
pub fn totals(run: &RunView) -> Option<String> {
    let finished: Vec<String> = run
        .runs
        .iter()
        .filter_map(|r| Some(format!("{} {}", r.label, fmt_ms(r.total_ms?))))
        .collect();
    (!finished.is_empty()).then(|| format!("{}{}", runtime_prefix(run), finished.join(" · ")))
}

fn header(run: &RunView, snap: &TimelineSnapshot, area: Rect, buf: &mut Buffer, t: &Theme) {
    let mut parts = Vec::new();
    let status = match run.status {
        RunStatus::Running => "running",
        RunStatus::Finished => "finished",
        RunStatus::Cancelled => "cancelled",
        RunStatus::Idle => "",
    };
    // Totals next: on a narrow pane they are what must stay visible.
    match totals(run).filter(|_| run.status != RunStatus::Running) {
        Some(totals) => parts.push(totals),
        None => {
            let name = run.shown_run().map_or("", |r| r.label.as_str());
            let on = runtime_prefix(run);
            parts.push(format!("{on}{name} {}", fmt_ms(snap.now_ms)));
        }
    }
    parts.push(status.to_owned());
    if let Some(c) = run.cursor_ms {
        // Counted in O(log n) from the index once the run finished.
        let (running, alive, not_started) = match run.index() {
            Some(x) => (x.running_at(c), x.alive_at(c), x.not_started_at(c)),
            None => (
                snap.tasks.iter().filter(|x| x.is_running_at(c)).count(),
                snap.tasks.iter().filter(|x| x.is_alive_at(c)).count(),
                0,
            ),
        };
        // The ready queue's length then, when the run recorded wakes.
        let scheduled = snap.series_at(READY, c).map(|v| match v {
            SeriesValue::Num(n) => *n as usize,
            SeriesValue::Text(_) => 0,
        });
        let waiting = alive
            .saturating_sub(running)
            .saturating_sub(scheduled.unwrap_or(0))
            .saturating_sub(not_started);
        let mut s = format!("@{}: {running} running", fmt_ms(c));
        if let Some(n) = scheduled {
            s.push_str(&format!(", {n} scheduled"));
        }
        s.push_str(&format!(", {waiting} waiting"));
        if not_started > 0 {
            s.push_str(&format!(", {not_started} not started"));
        }
        for (name, _) in own_series(snap) {
            if let Some(v) = snap.series_at(name, c) {
                s.push_str(&format!(", {name}={}", value(v)));
            }
        }
        if run.runs.len() > 1 {
            let name = run.shown_run().map_or("", |r| r.label.as_str());
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

#[allow(clippy::too_many_arguments)] // a drawing helper: position, size and what to draw
fn draw_lane(
    task: &TaskRecord,
    wakes: wakes::LaneWakes<'_>,
    snap: &TimelineSnapshot,
    scale: &TimeScale,
    x: u16,
    y: u16,
    buf: &mut Buffer,
    t: &Theme,
) {
    let cells = crate::demo::timeline::lane_cells(task, wakes, &snap.marks, scale);
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
        Cell::NotStarted => ("_", t.dim),
        Cell::Waiting(Woken::NotYet) => ("─", t.waiting),
        Cell::Waiting(Woken::Task) => ("┄", t.waiting),
        Cell::Waiting(Woken::Timer) => ("◦", t.waiting),
        Cell::Waiting(Woken::Io) => ("≈", t.waiting),
        Cell::Waiting(Woken::Thread) => ("═", t.waiting),
        Cell::Scheduled => ("░", t.scheduled),
        Cell::ShortPoll => ("╎", t.running),
        Cell::Running => ("█", t.running),
        Cell::Mark => ("◆", t.mark),
    })
}

/// Every state a lane cell can be in, for the legend's checks.
pub const CELLS: [Cell; 11] = [
    Cell::Absent,
    Cell::NotStarted,
    Cell::Waiting(Woken::NotYet),
    Cell::Waiting(Woken::Task),
    Cell::Waiting(Woken::Timer),
    Cell::Waiting(Woken::Io),
    Cell::Waiting(Woken::Thread),
    Cell::Scheduled,
    Cell::ShortPoll,
    Cell::Running,
    Cell::Mark,
];

#[allow(clippy::too_many_arguments)] // a drawing helper: position, size and what to draw
fn draw_strip(
    snap: &TimelineSnapshot,
    name: &str,
    max: Option<f64>,
    scale: &TimeScale,
    x: u16,
    y: u16,
    buf: &mut Buffer,
    t: &Theme,
) {
    let max = max.unwrap_or(0.0);
    for c in 0..scale.cols {
        let (at, _) = scale.bounds(c);
        let x = x + c as u16;
        let Some(v) = snap.series_at(name, at) else {
            continue;
        };
        match v {
            SeriesValue::Num(n) => {
                let glyph = bar(*n, max);
                buf.set_string(x, y, glyph, t.code);
            }
            SeriesValue::Text(s) => {
                let glyph: String = s.chars().next().map_or(String::new(), |ch| ch.to_string());
                buf.set_string(x, y, glyph, t.code);
            }
        }
    }
}

/// The bar for `n` on a strip whose scale tops out at `max` (blank at zero and below).
fn bar(n: f64, max: f64) -> &'static str {
    const BARS: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
    if n <= 0.0 {
        return " ";
    }
    let level = if max > 0.0 {
        (n / max * 7.0).round() as usize
    } else {
        0
    };
    BARS[level.min(7)]
}

/// `in_flight max 3`: a strip's name and the top of its scale, the number kept whole when the name
/// must be shortened to fit `width`.
fn strip_label(name: &str, max: Option<&f64>, width: usize) -> String {
    let Some(max) = max else {
        return name.to_owned();
    };
    let top = format!(" max {}", crate::demo::timeline::fmt_number(*max));
    let room = width.saturating_sub(cells(&top));
    if cells(name) <= room {
        return format!("{name}{top}");
    }
    if room < 2 {
        return name.to_owned();
    }
    let (mut short, mut used) = (String::new(), 0);
    for c in name.chars() {
        let w = cells(c.encode_utf8(&mut [0; 4]));
        if used + w > room - 1 {
            break;
        }
        used += w;
        short.push(c);
    }
    format!("{short}…{top}")
}

/// The cells `s` takes on screen: a name may hold characters two cells wide, or several bytes.
fn cells(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
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
            file: None,
            id,
            name: name.into(),
            parent: None,
            spawned_ms: spawned,
            finished_ms: Some(finished),
            outcome: Outcome::Ok,
            detail: String::new(),
            polls,
            seqs: Vec::new(),
            line: None,
        }
    }

    /// `run` drawn in a pane of `width`×`height`.
    fn draw(run: &RunView, width: u16, height: u16, narrate: bool) -> Buffer {
        let theme = Theme::new(Palette::Dark, true);
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        (&TimelinePane {
            run,
            narrate,
            line: None,
            theme: &theme,
        })
            .render(area, &mut buf);
        buf
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
        let mut run = RunView::finished(
            vec![crate::demo::run::Run::stand_in("v", snap, 100.0)],
            None,
        );
        run.cursor_ms = cursor;
        run
    }

    #[test]
    fn lanes_axis_and_outcomes_cell_by_cell() {
        // 17 wide: names 4, a space, 10 lane columns of 10 ms, a space, the outcome glyph.
        let buf = draw(&view(None), 17, 5, true);
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
    fn a_lane_blank_in_a_zoomed_window_has_no_end_glyph() {
        let mut run = view(None);
        // b is spawned at 20 ms: in a window on 0..15 ms its lane is blank.
        run.window = Some((0.0, 15.0));
        let buf = draw(&run, 17, 5, false);
        assert_eq!(buf[(16, 1)].symbol(), "✓", "a is in the window");
        assert_eq!(buf[(16, 2)].symbol(), " ", "b is not");
    }

    #[test]
    fn a_tall_pane_keeps_the_axis_right_under_the_lanes() {
        let buf = draw(&view(None), 17, 40, false);
        assert_eq!(buf[(5, 3)].symbol(), "┼", "the axis follows the two lanes");
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

#[cfg(test)]
mod wake_tests {
    use super::*;
    use crate::app::Palette;
    use crate::demo::Outcome;
    use crate::demo::timeline::Wake;

    fn task(
        id: u32,
        name: &str,
        finished: f64,
        polls: Vec<(f64, f64)>,
        seqs: Vec<u64>,
    ) -> TaskRecord {
        TaskRecord {
            file: None,
            id,
            name: name.into(),
            parent: None,
            spawned_ms: 0.0,
            finished_ms: Some(finished),
            outcome: Outcome::Ok,
            detail: String::new(),
            polls,
            seqs,
            line: None,
        }
    }

    /// a wakes b at 50 ms (a permit handed over); x lies between their lanes.
    fn handover() -> TimelineSnapshot {
        TimelineSnapshot {
            tasks: vec![
                task(
                    1,
                    "a",
                    60.0,
                    vec![(0.0, 0.0), (50.0, 50.0)],
                    vec![0, 1, 6, 9],
                ),
                task(2, "x", 100.0, vec![(0.0, 0.0)], vec![2, 3, 10]),
                task(
                    3,
                    "b",
                    100.0,
                    vec![(0.0, 0.0), (50.0, 50.0)],
                    vec![4, 5, 8, 11],
                ),
            ],
            wakes: vec![Wake {
                seq: 7,
                t_ms: 50.0,
                task: 3,
                cause: WakeCause::Task,
                by: Some(1),
                line: None,
            }],
            now_ms: 100.0,
            ..TimelineSnapshot::default()
        }
    }

    fn rows(run: &RunView, width: u16, height: u16) -> Vec<String> {
        let theme = Theme::new(Palette::Dark, true);
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        (&TimelinePane {
            run,
            narrate: true,
            line: None,
            theme: &theme,
        })
            .render(area, &mut buf);
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect()
            })
            .collect()
    }

    fn view(snap: TimelineSnapshot) -> RunView {
        RunView::finished(
            vec![crate::demo::run::Run::stand_in("v", snap, 100.0)],
            None,
        )
    }

    fn cursor_on(run: &mut RunView, task: u32, kind: EventKind) {
        let i = run
            .index()
            .and_then(|x| {
                x.events()
                    .iter()
                    .position(|e| e.kind == kind && e.task == Some(task))
            })
            .expect("the event");
        run.go_to_event(i);
    }

    #[test]
    fn the_wake_at_the_cursor_joins_the_wakers_lane_to_the_woken_one() {
        let mut run = view(handover());
        let drawn = rows(&run, 17, 8);
        assert_eq!(drawn[1], "a    ╎────╎     ✓");
        assert_eq!(drawn[2], "x    ╎───────── ✓");
        assert_eq!(drawn[3], "b    ╎┄┄┄┄╎──── ✓", "waiting until a woke it");
        cursor_on(&mut run, 3, EventKind::Wake { wake: 0 });
        let drawn = rows(&run, 17, 8);
        assert_eq!(drawn[1], "a    ╎────╎     ✓");
        assert_eq!(drawn[2], "x    ╎────│──── ✓");
        assert_eq!(drawn[3], "b    ╎┄┄┄┄↓──── ✓");
        // The poll the wake caused shows the same edge; a's own poll shows none.
        cursor_on(&mut run, 3, EventKind::Poll { nth: 1 });
        assert_eq!(rows(&run, 17, 8)[2], "x    ╎────│──── ✓");
        cursor_on(&mut run, 1, EventKind::Poll { nth: 1 });
        assert_eq!(rows(&run, 17, 8)[2], "x    ╎───────── ✓");
        run.go_to_event(0);
        assert_eq!(rows(&run, 17, 8)[2], "x    ╎───────── ✓");
    }

    #[test]
    fn the_edge_points_up_when_the_waker_is_below() {
        let mut snap = handover();
        snap.wakes[0].task = 1;
        snap.wakes[0].by = Some(3);
        // a is now woken at 50 ms by b: b's poll there must come first.
        snap.tasks[2].seqs = vec![4, 5, 6, 11];
        snap.tasks[0].seqs = vec![0, 1, 8, 9];
        let mut run = view(snap);
        cursor_on(&mut run, 1, EventKind::Wake { wake: 0 });
        let drawn = rows(&run, 17, 8);
        assert_eq!(drawn[1], "a    ╎┄┄┄┄↑     ✓");
        assert_eq!(drawn[2], "x    ╎────│──── ✓");
    }

    #[test]
    fn the_ready_queue_is_the_first_strip_and_the_header_counts_scheduled_tasks() {
        let mut snap = handover();
        // b is woken at 20 ms but polled at 50: scheduled for 30 ms while a holds the thread.
        snap.tasks[0].polls = vec![(0.0, 0.0), (20.0, 50.0)];
        snap.wakes[0].t_ms = 20.0;
        snap.tasks[0].seqs = vec![0, 1, 6, 9];
        snap.wakes[0].seq = 7;
        for name in ["aa", "bb", "cc"] {
            snap.series.insert(name.into(), vec![(0.0, 1usize.into())]);
        }
        snap.add_ready_queue();
        let mut run = view(snap);
        run.cursor_ms = Some(30.0);
        run.event = None;
        let drawn = rows(&run, 80, 12);
        let labels: Vec<&str> = drawn[4..8]
            .iter()
            .map(|r| r.split_whitespace().next().unwrap_or(""))
            .collect();
        assert_eq!(labels, ["ready", "aa", "bb", "cc"], "{drawn:#?}");
        assert!(
            drawn[0].contains("@30 ms: 1 running, 1 scheduled, 1 waiting, aa=1"),
            "{}",
            drawn[0]
        );
        assert!(
            drawn[3].contains("░░░"),
            "b sat in the ready queue: {}",
            drawn[3]
        );
    }

    #[test]
    fn every_lane_state_has_its_own_glyph_without_colour() {
        let t = Theme::new(Palette::Dark, true);
        let mut glyphs: Vec<&str> = CELLS
            .iter()
            .filter_map(|c| glyph(*c, &t))
            .map(|g| g.0)
            .collect();
        let n = glyphs.len();
        glyphs.sort_unstable();
        glyphs.dedup();
        assert_eq!(glyphs.len(), n, "two states share a glyph");
        assert_eq!(n, CELLS.len() - 1, "all but Absent are drawn");
    }
}

#[cfg(test)]
mod strip_tests {
    use super::*;
    use crate::app::Palette;
    use crate::demo::timeline::Outcome;

    fn run(in_flight: &[(f64, f64)], total: f64) -> TimelineSnapshot {
        let mut snap = TimelineSnapshot {
            now_ms: total,
            ..TimelineSnapshot::default()
        };
        snap.tasks.push(TaskRecord {
            file: None,
            id: 1,
            name: "main".into(),
            parent: None,
            spawned_ms: 0.0,
            finished_ms: Some(total),
            outcome: Outcome::Ok,
            detail: String::new(),
            polls: vec![(0.0, 0.0)],
            seqs: Vec::new(),
            line: None,
        });
        snap.series.insert(
            "in_flight".into(),
            in_flight.iter().map(|&(t, v)| (t, v.into())).collect(),
        );
        snap
    }

    fn draw(view: &RunView, width: u16, height: u16) -> Vec<String> {
        let theme = Theme::new(Palette::Dark, true);
        let pane = TimelinePane {
            run: view,
            line: None,
            narrate: false,
            theme: &theme,
        };
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        (&pane).render(area, &mut buf);
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_name_column_is_as_wide_as_its_labels_in_cells() {
        let mut snap = run(&[(0.0, 3.0), (300.0, 0.0)], 300.0);
        let series = snap.series.remove("in_flight").expect("the series");
        snap.series.insert("débit_µs".into(), series);
        let view = RunView::finished(
            vec![crate::demo::run::Run::stand_in("one", snap, 300.0)],
            None,
        );
        let rows = draw(&view, 60, 12);
        assert!(
            rows.iter().any(|r| r.starts_with("débit_µs max 3 ")),
            "{rows:#?}"
        );
        let main = rows.iter().find(|r| r.starts_with("main")).expect("main");
        // "débit_µs max 3" takes 14 cells (16 bytes): the lanes start a cell after it.
        let lane = main.chars().skip(4).position(|c| c != ' ').map(|i| i + 4);
        assert_eq!(lane, Some(15), "{rows:#?}");
    }

    #[test]
    fn equal_values_of_a_series_are_drawn_at_one_height_in_every_compared_run() {
        // Sequential keeps one request in flight; join-all has three, then two, then one.
        let sequential = run(&[(0.0, 1.0), (300.0, 0.0)], 300.0);
        let join_all = run(
            &[(0.0, 3.0), (100.0, 2.0), (200.0, 1.0), (300.0, 0.0)],
            300.0,
        );
        let view = RunView::finished(
            vec![
                crate::demo::run::Run::stand_in("sequential", sequential, 300.0),
                crate::demo::run::Run::stand_in("join-all", join_all, 300.0),
            ],
            None,
        );
        let rows = draw(&view, 60, 12);
        let strips: Vec<&String> = rows.iter().filter(|r| r.starts_with("in_flight")).collect();
        assert_eq!(
            strips.len(),
            2,
            "each compared run shows its strip: {rows:#?}"
        );
        assert!(strips.iter().all(|r| r.contains("max 3")), "{strips:#?}");
        // A value of 1 is one bar in both: the sequential run's whole strip and join-all's tail.
        let seq_bar = strips[0].chars().nth(20).expect("a cell");
        let tail = strips[1].trim_end().chars().last().expect("a cell");
        assert_eq!(
            seq_bar, tail,
            "1 in flight looks the same in both: {strips:#?}"
        );
        assert_ne!(seq_bar, '█', "1 of 3 is not a full bar");
    }

    #[test]
    fn the_ready_queue_is_drawn_on_one_scale_in_every_compared_run() {
        let with_ready = |points: &[(f64, f64)]| {
            let mut snap = run(&[(0.0, 1.0)], 300.0);
            snap.series.insert(
                READY.into(),
                points.iter().map(|&(t, v)| (t, v.into())).collect(),
            );
            snap.series_seqs
                .insert(READY.into(), (0..points.len() as u64).collect());
            snap
        };
        let view = RunView::finished(
            vec![
                crate::demo::run::Run::stand_in(
                    "a",
                    with_ready(&[(0.0, 1.0), (300.0, 0.0)]),
                    300.0,
                ),
                crate::demo::run::Run::stand_in(
                    "b",
                    with_ready(&[(0.0, 4.0), (100.0, 1.0), (300.0, 0.0)]),
                    300.0,
                ),
            ],
            None,
        );
        let rows = draw(&view, 60, 14);
        let strips: Vec<&String> = rows.iter().filter(|r| r.starts_with("ready")).collect();
        assert_eq!(strips.len(), 2, "{rows:#?}");
        assert!(strips.iter().all(|r| r.contains("max 4")), "{strips:#?}");
        let a = strips[0].chars().nth(20).expect("a cell");
        let b_tail = strips[1].chars().nth(40).expect("a cell");
        assert_eq!(a, b_tail, "1 ready looks the same in both: {strips:#?}");
    }

    #[test]
    fn a_strip_label_keeps_its_scale_when_the_name_is_cut() {
        assert_eq!(strip_label("in_flight", Some(&3.0), 16), "in_flight max 3");
        assert_eq!(
            strip_label("max_tick_gap_ms", Some(&500.0), 16),
            "max_tic… max 500"
        );
        assert_eq!(strip_label("state", None, 16), "state");
    }

    /// A label is measured in cells, not bytes or characters: `µ` is two bytes and one cell,
    /// `待` one character and two cells.
    #[test]
    fn a_strip_label_is_measured_in_cells() {
        let label = strip_label("débit_µs", Some(&3.0), 14);
        assert_eq!(label, "débit_µs max 3", "it fits 14 cells whole");
        assert_eq!(cells(&label), 14);
        let cut = strip_label("待ち時間_ms", Some(&5.0), 12);
        assert_eq!(cut, "待ち… max 5");
        assert!(cells(&cut) <= 12, "{cut} takes {} cells", cells(&cut));
    }
}
