//! The run as text: a lane per task, an axis with units, outcomes, marks and totals. For
//! `asyncdojo run` in a terminal or a pipe. Lanes come from `demo::timeline::lane_cells`, the
//! rasteriser the app's timeline pane uses too, so both draw the same cells: `#` running, `|` a
//! short poll, `+` scheduled, `-` waiting (`~` for a task, `.` for the timer, `:` for I/O, `=`
//! for a thread when a wake ended it), `_` not started, `*` a mark. The pane's wake connector
//! is not drawn here: text has no cursor.

use std::fmt::Write;

use crate::demo::asyncio::Runtime;
use crate::demo::run::Run;
use crate::demo::timeline::wakes::{LaneWakes, WakeIndex};
use crate::demo::timeline::{
    Cell, Mark, Outcome, TaskRecord, TimeScale, TimelineSnapshot, Woken, fmt_ms, fmt_number,
};
use crate::demo::{Clock, Params, RunReport};

/// Lanes shown per variant before the rest are summarised: a 100,000-task run stays readable.
const MAX_LANES: usize = 40;
const MAX_MARKS: usize = 30;

/// A tokio run's report as text.
pub fn render(report: &RunReport, width: usize) -> String {
    let runs: Vec<Run> = report
        .runs
        .iter()
        .map(|v| Run::finished(report.demo, Runtime::Tokio, report.clock, v.clone()))
        .collect();
    render_runs(
        &heading(report.demo, report.clock, &report.params),
        &runs,
        width,
    )
}

/// `gather (virtual clock)  latencies_ms=100,200,300`: what ran, before its runs.
pub fn heading(demo: &str, clock: Clock, params: &Params) -> String {
    let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{demo} ({} clock)  {}", clock.name(), params.join(" "))
}

/// Runs (of one runtime or both) as text on one time axis, each under its label.
pub fn render_runs(heading: &str, runs: &[Run], width: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading}");
    // One scale for every variant, so they compare at a glance.
    let span = runs
        .iter()
        .map(|r| r.span_ms().max(r.timeline.now_ms))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    for run in runs {
        out.push('\n');
        render_variant(&mut out, run, span, width);
    }
    if runs.len() > 1 {
        out.push('\n');
        for run in runs {
            let _ = writeln!(out, "total {:<16} {}", run.label, fmt_ms(run.span_ms()));
        }
    }
    out
}

fn render_variant(out: &mut String, run: &Run, span: f64, width: usize) {
    let tl = &run.timeline;
    let name_w = tl
        .tasks
        .iter()
        .take(MAX_LANES)
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    let cols = width.saturating_sub(name_w + 14).max(10);
    let scale = TimeScale::new(0.0, span, cols);
    let _ = writeln!(out, "── {} ── total {}", run.label, fmt_ms(run.span_ms()));
    if let Some(err) = &run.error {
        let _ = writeln!(out, "   ({})", crate::text::sanitize(&err.to_string()));
    }
    let wakes = WakeIndex::new(tl);
    for (pos, task) in tl.tasks.iter().enumerate().take(MAX_LANES) {
        let name: String = crate::text::sanitize(&task.name)
            .chars()
            .take(name_w)
            .collect();
        let _ = writeln!(
            out,
            "{name:<name_w$} {} {}",
            lane(task, wakes.lane(tl, pos), &tl.marks, &scale),
            outcome_word(task)
        );
    }
    if tl.tasks.len() > MAX_LANES {
        let _ = writeln!(out, "… and {} more tasks", tl.tasks.len() - MAX_LANES);
    }
    let (axis_line, labels) = axis(span, cols);
    let _ = writeln!(out, "{:name_w$} {axis_line}", "");
    let _ = writeln!(out, "{:name_w$} {}", "", labels.trim_end());
    counts(out, tl);
    for (name, points) in &tl.series {
        let values: Vec<String> = points
            .iter()
            .take(12)
            .map(|(t, v)| match v {
                crate::demo::timeline::SeriesValue::Num(n) => {
                    format!("{}@{}", fmt_number(*n), fmt_ms(*t))
                }
                crate::demo::timeline::SeriesValue::Text(s) => format!("{s}@{}", fmt_ms(*t)),
            })
            .collect();
        let more = if points.len() > 12 { " …" } else { "" };
        let _ = writeln!(out, "series {name}: {}{more}", values.join(" "));
    }
    let m: Vec<String> = tl
        .metrics
        .iter()
        .filter(|(k, v)| !crate::demo::timeline::wakes::unremarkable(k, v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !m.is_empty() {
        let _ = writeln!(out, "metrics: {}", m.join(" "));
    }
    for mark in tl.marks.iter().take(MAX_MARKS) {
        let who = mark
            .task
            .and_then(|id| tl.tasks.get(id as usize - 1))
            .map_or(String::new(), |t| {
                format!(" [{}]", crate::text::sanitize(&t.name))
            });
        let line = mark.line.map_or(String::new(), |l| format!(" (line {l})"));
        let _ = writeln!(
            out,
            "mark {:>10} {}{who}{line}",
            fmt_ms(mark.t_ms),
            crate::text::sanitize(&mark.label)
        );
    }
    if tl.marks.len() > MAX_MARKS {
        let _ = writeln!(out, "… and {} more marks", tl.marks.len() - MAX_MARKS);
    }
}

/// One character per column of the scale.
pub fn lane(task: &TaskRecord, wakes: LaneWakes<'_>, marks: &[Mark], scale: &TimeScale) -> String {
    crate::demo::timeline::lane_cells(task, wakes, marks, scale)
        .into_iter()
        .map(glyph)
        .collect()
}

/// The text form of a lane cell; the README's legend lists these.
pub fn glyph(cell: Cell) -> char {
    match cell {
        Cell::Absent => ' ',
        Cell::NotStarted => '_',
        Cell::Waiting(Woken::NotYet) => '-',
        Cell::Waiting(Woken::Task) => '~',
        Cell::Waiting(Woken::Timer) => '.',
        Cell::Waiting(Woken::Io) => ':',
        Cell::Waiting(Woken::Thread) => '=',
        Cell::Scheduled => '+',
        Cell::ShortPoll => '|',
        Cell::Running => '#',
        Cell::Mark => '*',
    }
}

fn outcome_word(task: &TaskRecord) -> String {
    let glyph = match task.outcome {
        Outcome::Ok => "ok",
        Outcome::Error => "ERROR",
        Outcome::Timeout => "TIMEOUT",
        Outcome::Cancelled => "cancelled",
        Outcome::Rejected => "REJECTED",
        Outcome::Panicked => "PANICKED",
        Outcome::Running => "running",
    };
    let at = task
        .finished_ms
        .map_or(String::new(), |f| format!(" @{}", fmt_ms(f)));
    let detail = if task.detail.is_empty() || task.outcome == Outcome::Ok && task.detail.len() > 24
    {
        String::new()
    } else {
        format!(" ({})", crate::text::sanitize(&task.detail))
    };
    format!("{glyph}{at}{detail}")
}

fn counts(out: &mut String, tl: &TimelineSnapshot) {
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .filter_map(|&o| {
            let n = tl.count(o);
            (n > 0).then(|| format!("{n} {}", o.name()))
        })
        .collect();
    let _ = writeln!(out, "tasks: {} ({})", tl.tasks.len(), parts.join(", "));
}

/// The axis line and its labels: `0` at the left, the span at the right, the middle ticked.
fn axis(span: f64, cols: usize) -> (String, String) {
    let mut line: Vec<char> = vec!['-'; cols];
    line[0] = '|';
    line[cols - 1] = '|';
    line[cols / 2] = '+';
    let mid = fmt_ms(span / 2.0);
    let right = fmt_ms(span);
    let mut labels = vec![' '; cols];
    labels[0] = '0';
    let r0 = cols.saturating_sub(right.chars().count());
    for (i, c) in right.chars().enumerate() {
        labels[r0 + i] = c;
    }
    let m0 = (cols / 2).saturating_sub(mid.chars().count() / 2);
    if m0 > 2 && m0 + mid.chars().count() + 2 < r0 {
        for (i, c) in mid.chars().enumerate() {
            labels[m0 + i] = c;
        }
    }
    (line.into_iter().collect(), labels.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(spawned: f64, finished: f64, polls: Vec<(f64, f64)>) -> TaskRecord {
        TaskRecord {
            file: None,
            id: 1,
            name: "t".into(),
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

    #[test]
    fn lanes_draw_running_waiting_and_absent() {
        // 10 columns of 10 ms: alive 20..80, running 20..40, a zero-length poll at 79.
        let t = task(20.0, 80.0, vec![(20.0, 40.0), (79.0, 79.0)]);
        assert_eq!(
            lane(&t, LaneWakes::NONE, &[], &TimeScale::new(0.0, 100.0, 10)),
            "  ##---|  "
        );
    }

    #[test]
    fn each_state_has_its_own_character_and_waits_read_by_what_woke_them() {
        use crate::demo::timeline::{Wake, WakeCause};
        let mut glyphs: Vec<char> = crate::ui::timeline_pane::CELLS
            .iter()
            .map(|c| glyph(*c))
            .collect();
        glyphs.sort_unstable();
        glyphs.dedup();
        assert_eq!(glyphs.len(), crate::ui::timeline_pane::CELLS.len());
        // Not started until its first poll at 10; woken by the timer at 30 but polled at 40 (the
        // thread was held); woken by a task at 60 and polled then; gone at 80.
        let mut t = task(0.0, 80.0, vec![(10.0, 10.0), (40.0, 40.0), (60.0, 60.0)]);
        t.spawned_ms = 0.0;
        t.seqs = vec![0, 1, 3, 5, 6];
        let wake = |seq, t_ms, cause| Wake {
            seq,
            t_ms,
            task: 1,
            cause,
            by: None,
            line: None,
        };
        let snap = TimelineSnapshot {
            tasks: vec![t],
            wakes: vec![
                wake(2, 30.0, WakeCause::Timer),
                wake(4, 60.0, WakeCause::Task),
            ],
            ..TimelineSnapshot::default()
        };
        let index = WakeIndex::new(&snap);
        assert_eq!(
            lane(
                &snap.tasks[0],
                index.lane(&snap, 0),
                &[],
                &TimeScale::new(0.0, 100.0, 10)
            ),
            "_|.+|~|-  "
        );
    }
}
