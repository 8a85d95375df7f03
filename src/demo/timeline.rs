//! The pure data of a recorded run: what the UI draws and the run document
//! (`docs/run-document.md`, written and read by [`super::document`]) carries. Nothing here knows
//! how it was recorded or how it will be drawn.
//!
//! Every event (a spawn, the start and the end of each poll, a wake, a mark, a finish, a series
//! point) carries a `seq` from one counter per run: the order the recorder took them in. Two events at
//! one instant are ordered by it, not by a guess.

pub mod index;
pub mod narrate;
pub mod wakes;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a task ended (or `Running` while it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Error,
    Timeout,
    Cancelled,
    Rejected,
    Panicked,
    Running,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::Cancelled,
        Outcome::Rejected,
        Outcome::Panicked,
        Outcome::Running,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
            Outcome::Rejected => "rejected",
            Outcome::Panicked => "panicked",
            Outcome::Running => "running",
        }
    }

    pub fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// Task ids are small integers, in spawn order, starting at 1.
pub type TaskId = u32;

/// One task's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRecord {
    pub id: TaskId,
    pub name: String,
    pub parent: Option<TaskId>,
    pub spawned_ms: f64,
    pub finished_ms: Option<f64>,
    pub outcome: Outcome,
    pub detail: String,
    /// Intervals during which the task was being polled; the gaps are time spent waiting.
    pub polls: Vec<(f64, f64)>,
    /// The seqs of the task's own events in the order they happened: its spawn, each poll (taken
    /// as the poll started, so what the task did during it comes after), and its finish once it
    /// has one. One list rather than a field per event: a task costs one key in the document and
    /// one allocation here, and `polls` keeps the shape it had before seqs existed. Empty in a
    /// timeline made by hand, whose instants then read task by task.
    pub seqs: Vec<u64>,
    /// 1-based line in the shown file of the call that spawned or instrumented the task, when
    /// that call is in the shown file (as for a mark's `line`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Index into the traced script's `files` list of the file `line` is in (absent: file 0,
    /// the script itself; demos and twins have one file and never set it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<u32>,
}

impl TaskRecord {
    pub fn spawned_seq(&self) -> Option<u64> {
        self.seqs.first().copied()
    }

    /// The seq of poll `nth` (0-based, into `polls`).
    pub fn poll_seq(&self, nth: usize) -> Option<u64> {
        self.seqs.get(1 + nth).copied()
    }

    pub fn finished_seq(&self) -> Option<u64> {
        self.finished_ms?;
        self.seqs.get(1 + self.polls.len()).copied()
    }

    /// Was the task being polled at `t_ms`?
    pub fn is_running_at(&self, t_ms: f64) -> bool {
        self.polls.iter().any(|&(a, b)| a <= t_ms && t_ms < b)
    }

    pub fn is_alive_at(&self, t_ms: f64) -> bool {
        self.spawned_ms <= t_ms && self.finished_ms.is_none_or(|f| t_ms < f)
    }
}

/// A labelled instant: a state change, a permit acquired, a grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    pub t_ms: f64,
    pub task: Option<TaskId>,
    /// Most labels are literals in the demo's code: borrowed, they cost no allocation per mark.
    pub label: Cow<'static, str>,
    /// 1-based line in the demo's shown file (`DemoSpec::source`), where the mark was made.
    pub line: Option<u32>,
    pub seq: u64,
    /// Index into the traced script's `files` list of the file `line` is in (absent: file 0,
    /// the script itself; demos and twins have one file and never set it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<u32>,
}

/// A value of a series: a count, or a state name (breaker state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SeriesValue {
    Num(f64),
    Text(String),
}

impl From<f64> for SeriesValue {
    fn from(v: f64) -> Self {
        SeriesValue::Num(v)
    }
}

impl From<usize> for SeriesValue {
    fn from(v: usize) -> Self {
        SeriesValue::Num(v as f64)
    }
}

impl From<&str> for SeriesValue {
    fn from(v: &str) -> Self {
        SeriesValue::Text(v.to_owned())
    }
}

/// What made a task ready to run again: the kinds of wake both runtimes record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WakeCause {
    /// Another recorded task, while it was being polled: the releaser of a permit, the sender on
    /// a channel, the task whose result this one awaited. `Wake::by` names it.
    Task,
    /// A timer expired (tokio's time driver; asyncio's `call_at`).
    Timer,
    /// The I/O driver (tokio) or the selector (asyncio) saw a socket or pipe ready.
    Io,
    /// Another thread: tokio's blocking pool, `to_thread`, `call_soon_threadsafe`.
    Thread,
    /// The task woke itself while it was being polled: `yield_now`, `sleep(0)`.
    #[serde(rename = "self")]
    SelfWake,
    /// Its first schedule, when it was spawned.
    Spawn,
}

impl WakeCause {
    pub const ALL: [WakeCause; 6] = [
        WakeCause::Task,
        WakeCause::Timer,
        WakeCause::Io,
        WakeCause::Thread,
        WakeCause::SelfWake,
        WakeCause::Spawn,
    ];

    /// The name the run document uses.
    pub fn name(self) -> &'static str {
        match self {
            WakeCause::Task => "task",
            WakeCause::Timer => "timer",
            WakeCause::Io => "io",
            WakeCause::Thread => "thread",
            WakeCause::SelfWake => "self",
            WakeCause::Spawn => "spawn",
        }
    }
}

/// One wake of a recorded task: the moment it went from waiting to scheduled (ready to be
/// polled, not yet polled). A wake of a task that is already scheduled changes nothing and is not
/// recorded, so between two polls a task has at most one wake: the one that made the second
/// happen.
///
/// In the run document a wake is a row, `[seq, t_ms, task, cause, by, line]` (null where absent),
/// not an object: a run has about as many wakes as polls, and keys repeated on each made them
/// half of a traced script's document (and of the time spent writing and reading it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "WakeRow", from = "WakeRow")]
pub struct Wake {
    pub seq: u64,
    pub t_ms: f64,
    /// The woken task.
    pub task: TaskId,
    pub cause: WakeCause,
    /// The waking task, when the cause is `task`.
    pub by: Option<TaskId>,
    /// The line the waker was at (the waking task's current line in the shown file), when known.
    pub line: Option<u32>,
}

/// A wake as the run document writes it: a row of exactly six items.
#[derive(Serialize)]
struct WakeRow(u64, f64, TaskId, WakeCause, Option<TaskId>, Option<u32>);

impl<'de> Deserialize<'de> for WakeRow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Row;
        impl<'de> serde::de::Visitor<'de> for Row {
            type Value = WakeRow;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a wake: [seq, t_ms, task, cause, by, line]")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<WakeRow, A::Error> {
                let row = WakeRow(
                    item(&mut seq, 0, &self)?,
                    item(&mut seq, 1, &self)?,
                    item(&mut seq, 2, &self)?,
                    item(&mut seq, 3, &self)?,
                    item(&mut seq, 4, &self)?,
                    item(&mut seq, 5, &self)?,
                );
                no_more(&mut seq, 6, &self)?;
                Ok(row)
            }
        }
        deserializer.deserialize_seq(Row)
    }
}

/// The `i`th item of a row; too short a row is refused, saying what a row is.
fn item<'de, T: Deserialize<'de>, A: serde::de::SeqAccess<'de>>(
    seq: &mut A,
    i: usize,
    expected: &dyn serde::de::Expected,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| serde::de::Error::invalid_length(i, expected))
}

/// Too long a row is refused too, saying what a row is.
fn no_more<'de, A: serde::de::SeqAccess<'de>>(
    seq: &mut A,
    len: usize,
    expected: &dyn serde::de::Expected,
) -> Result<(), A::Error> {
    let mut n = len;
    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
        n += 1;
    }
    if n == len {
        Ok(())
    } else {
        Err(serde::de::Error::invalid_length(n, expected))
    }
}

impl From<Wake> for WakeRow {
    fn from(w: Wake) -> Self {
        WakeRow(w.seq, w.t_ms, w.task, w.cause, w.by, w.line)
    }
}

impl From<WakeRow> for Wake {
    fn from(WakeRow(seq, t_ms, task, cause, by, line): WakeRow) -> Self {
        Wake {
            seq,
            t_ms,
            task,
            cause,
            by,
            line,
        }
    }
}

/// Where a task was parked when one of its polls ended: the line of its innermost await in the
/// shown file (asyncio knows it exactly; tokio records none), and when the await is inside a
/// library, what it was waiting in ("in asyncio.sleep").
///
/// In the run document a park is a row, `[task, t_ms, line, within]` (`within` null when
/// absent), with `file` as a fifth item only when it is set: as many as the polls, like wakes.
#[derive(Debug, Clone, PartialEq)]
pub struct Parked {
    pub task: TaskId,
    /// The end of the poll after which the task was parked here.
    pub t_ms: f64,
    pub line: u32,
    pub within: Option<String>,
    /// Index into the traced script's `files` list of the file `line` is in (absent: file 0,
    /// the script itself; demos and twins have one file and never set it).
    pub file: Option<u32>,
}

impl Serialize for Parked {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut row = serializer.serialize_tuple(if self.file.is_some() { 5 } else { 4 })?;
        row.serialize_element(&self.task)?;
        row.serialize_element(&self.t_ms)?;
        row.serialize_element(&self.line)?;
        row.serialize_element(&self.within)?;
        if let Some(file) = self.file {
            row.serialize_element(&file)?;
        }
        row.end()
    }
}

impl<'de> Deserialize<'de> for Parked {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Row;
        impl<'de> serde::de::Visitor<'de> for Row {
            type Value = Parked;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a park: [task, t_ms, line, within] or [task, t_ms, line, within, file]",
                )
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Parked, A::Error> {
                let task = item(&mut seq, 0, &self)?;
                let t_ms = item(&mut seq, 1, &self)?;
                let line = item(&mut seq, 2, &self)?;
                let within = item(&mut seq, 3, &self)?;
                let file = seq.next_element::<Option<u32>>()?.flatten();
                no_more(&mut seq, 5, &self)?;
                Ok(Parked {
                    task,
                    t_ms,
                    line,
                    within,
                    file,
                })
            }
        }
        deserializer.deserialize_seq(Row)
    }
}

/// An immutable picture of a run so far: the UI and CLI read these, never the live recorder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineSnapshot {
    pub tasks: Vec<TaskRecord>,
    pub marks: Vec<Mark>,
    /// Step functions over time: each point holds until the next.
    pub series: BTreeMap<String, Vec<(f64, SeriesValue)>>,
    /// The seq of each series point: `series_seqs[name][i]` is `series[name][i]`'s. Apart from
    /// the points so that comparing two runs' series (the runtimes' conformance) compares values
    /// and times, not the order of everything else.
    pub series_seqs: BTreeMap<String, Vec<u64>>,
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// Every wake of a recorded task, in the order of their seqs.
    pub wakes: Vec<Wake>,
    /// Where tasks were parked as their polls ended, in time order (asyncio only).
    pub parks: Vec<Parked>,
    /// The latest instant anything was recorded at.
    pub now_ms: f64,
}

impl TimelineSnapshot {
    pub fn task(&self, name: &str) -> Option<&TaskRecord> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Tasks that ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.tasks.iter().filter(|t| t.outcome == outcome).count()
    }

    /// The task that finished first (earliest `finished_ms`, then lowest id).
    pub fn first_finished(&self) -> Option<&TaskRecord> {
        self.tasks
            .iter()
            .filter_map(|t| t.finished_ms.map(|f| (f, t)))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)))
            .map(|(_, t)| t)
    }

    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).and_then(serde_json::Value::as_f64)
    }

    /// The value of a series at `t_ms`, if it had one by then.
    pub fn series_at(&self, name: &str, t_ms: f64) -> Option<&SeriesValue> {
        let points = self.series.get(name)?;
        let idx = points.partition_point(|(t, _)| *t <= t_ms);
        idx.checked_sub(1).map(|i| &points[i].1)
    }

    /// Every instant something happened, sorted and deduplicated: where the time cursor stops.
    pub fn event_times(&self) -> Vec<f64> {
        let mut times: Vec<f64> = Vec::new();
        for t in &self.tasks {
            times.push(t.spawned_ms);
            times.extend(t.finished_ms);
        }
        times.extend(self.marks.iter().map(|m| m.t_ms));
        times.sort_by(f64::total_cmp);
        times.dedup();
        times
    }
}

/// A time axis cut into `cols` equal columns, from `t0` to `t1` ms: the one scale both timeline
/// outputs (the app's pane and `run`'s text) draw on, so they agree column for column.
///
/// Column `c` covers the half-open slice `[t0 + c·step, t0 + (c+1)·step)`. An instant someone
/// points at (a mark, the time cursor) at exactly `t1` belongs to the last column, so the end of
/// a run can be pointed at; a lane's activity is judged on the half-open slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale {
    pub t0: f64,
    pub t1: f64,
    pub cols: usize,
}

impl TimeScale {
    /// A scale of at least one column over a window of positive length.
    pub fn new(t0: f64, t1: f64, cols: usize) -> TimeScale {
        TimeScale {
            t0,
            t1: if t1 > t0 { t1 } else { t0 + 1e-9 },
            cols: cols.max(1),
        }
    }

    /// Milliseconds per column.
    pub fn col_ms(&self) -> f64 {
        (self.t1 - self.t0) / self.cols as f64
    }

    /// The slice column `col` covers: `[start, end)`.
    pub fn bounds(&self, col: usize) -> (f64, f64) {
        let step = self.col_ms();
        let a = self.t0 + col as f64 * step;
        (a, a + step)
    }

    /// The column an instant falls in, if it is on the scale (`t1` itself is in the last column).
    pub fn column(&self, t_ms: f64) -> Option<usize> {
        if !(self.t0..=self.t1).contains(&t_ms) {
            return None;
        }
        Some((((t_ms - self.t0) / self.col_ms()) as usize).min(self.cols - 1))
    }
}

/// What one column of a task's lane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cell {
    /// Not spawned yet, or already finished.
    Absent,
    /// Created and never polled yet, and not scheduled either: a future given a lane in place
    /// before its parent first polls it (lazy futures' "never awaited"), or any task's start in
    /// a run recorded without wakes. It has not started, so it is not waiting for anything.
    NotStarted,
    /// Alive, not being polled, waiting for the world; drawn by what ended the wait.
    Waiting(Woken),
    /// Woken and not yet polled: in the ready queue, waiting for the thread, not for the world.
    Scheduled,
    /// Polled for less than half the column: a poll too short to see at this scale (on the
    /// virtual clock every poll takes no time, so every poll is one).
    ShortPoll,
    /// Polled for at least half the column.
    Running,
    /// One of the task's marks falls in the column (it wins over the rest).
    Mark,
}

/// What ended a wait, as a lane draws it: the wake that followed it (a wake during the task's own
/// poll, or its spawn, ends no wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Woken {
    /// No wake ended it: the task ended first, the run did, or wakes were not recorded.
    NotYet,
    /// Another task: a permit released, a message sent, a result it awaited.
    Task,
    Timer,
    Io,
    Thread,
}

impl Woken {
    pub fn of(cause: WakeCause) -> Woken {
        match cause {
            WakeCause::Task => Woken::Task,
            WakeCause::Timer => Woken::Timer,
            WakeCause::Io => Woken::Io,
            WakeCause::Thread => Woken::Thread,
            WakeCause::SelfWake | WakeCause::Spawn => Woken::NotYet,
        }
    }
}

/// The states a column can hold between polls, in the order a tie between them is settled.
const GAP_STATES: [Cell; 7] = [
    Cell::Scheduled,
    Cell::Waiting(Woken::Task),
    Cell::Waiting(Woken::Timer),
    Cell::Waiting(Woken::Io),
    Cell::Waiting(Woken::Thread),
    Cell::Waiting(Woken::NotYet),
    Cell::NotStarted,
];

fn gap_slot(cell: Cell) -> usize {
    GAP_STATES.iter().position(|c| *c == cell).unwrap_or(0)
}

/// The task's lane on `scale`, one cell per column. The rule, in the README's legend: a column is
/// `Running` when polls fill at least half of it, `ShortPoll` when a shorter poll (or an instant
/// one) touches it, and otherwise the state between polls that fills most of it: `NotStarted`
/// before its first poll (until a wake schedules it), `Waiting` from a poll's end to the wake
/// that ends the wait (drawn by that wake's cause), `Scheduled` from a wake to the next poll.
/// `Absent` before its spawn and from its end; a mark of the task (from `marks`) shows in the
/// column its instant falls in.
///
/// `wakes` is the task's wakes gap by gap ([`wakes::WakeIndex::lane`], built once per snapshot),
/// so a lane costs its visible polls, never a search of the run's wakes.
pub fn lane_cells(
    task: &TaskRecord,
    wakes: wakes::LaneWakes<'_>,
    marks: &[Mark],
    scale: &TimeScale,
) -> Vec<Cell> {
    let mut cells = vec![Cell::Absent; scale.cols];
    let half = scale.col_ms() / 2.0;
    let end = task.finished_ms.unwrap_or(f64::INFINITY);
    let polls = &task.polls;
    let n = polls.len();
    // Polls are in time order and do not overlap: skip those that end before the scale, then
    // walk forward with the columns, so a lane costs its visible polls, not all of them.
    let mut next = polls.partition_point(|&(_, b)| b < scale.t0);
    for (c, cell) in cells.iter_mut().enumerate() {
        let (a, b) = scale.bounds(c);
        let alive = (task.spawned_ms < b && end > a) || (a..b).contains(&task.spawned_ms);
        if !alive {
            continue;
        }
        while polls.get(next).is_some_and(|&(_, p1)| p1 < a) {
            next += 1;
        }
        let mut busy = 0.0;
        let mut touched = false;
        let mut cover = [0.0f64; GAP_STATES.len()];
        let mut first: Option<Cell> = None;
        // Gap k (before poll k), then poll k, and so on while they start inside the column.
        let mut k = next;
        loop {
            let gs = if k == 0 {
                task.spawned_ms
            } else {
                polls[k - 1].1
            };
            if gs >= b {
                break;
            }
            let ge = if k < n { polls[k].0 } else { end };
            let waited = if k == 0 {
                Cell::NotStarted
            } else {
                Cell::Waiting(Woken::NotYet)
            };
            let (before, woke_at) = match wakes.ending(k) {
                Some(w) => {
                    let before = if k == 0 {
                        Cell::NotStarted
                    } else {
                        Cell::Waiting(Woken::of(w.cause))
                    };
                    (before, w.t_ms.clamp(gs, ge.max(gs)))
                }
                None => (waited, ge),
            };
            for (state, from, to) in [(before, gs, woke_at), (Cell::Scheduled, woke_at, ge)] {
                // A gap of no length (spawned and gone at one instant) still names the column's
                // state; otherwise a piece counts by the time it fills.
                let instant = to <= from;
                if instant && !(ge <= gs && state == before) {
                    continue;
                }
                if from >= b || to < a || (!instant && to <= a) {
                    continue;
                }
                first.get_or_insert(state);
                cover[gap_slot(state)] += (to.min(b) - from.max(a)).max(0.0);
            }
            if k >= n {
                break;
            }
            let (p0, p1) = polls[k];
            if p0 >= b {
                break;
            }
            busy += (p1.min(b) - p0.max(a)).max(0.0);
            touched |= p0 >= a || p1 > a;
            k += 1;
        }
        *cell = if busy >= half {
            Cell::Running
        } else if touched {
            Cell::ShortPoll
        } else {
            let mut best: Option<(usize, f64)> = None;
            for (i, &ms) in cover.iter().enumerate() {
                if ms > 0.0 && best.is_none_or(|(_, m)| ms > m) {
                    best = Some((i, ms));
                }
            }
            best.map_or(first.unwrap_or(Cell::Waiting(Woken::NotYet)), |(i, _)| {
                GAP_STATES[i]
            })
        };
    }
    for m in marks.iter().filter(|m| m.task == Some(task.id)) {
        if let Some(c) = scale.column(m.t_ms) {
            cells[c] = Cell::Mark;
        }
    }
    cells
}

/// A duration for people: milliseconds below ten seconds, seconds above, to a tenth.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{} s", fmt_number(ms / 1000.0))
    } else {
        format!("{} ms", fmt_number(ms))
    }
}

/// A number to a tenth, without a trailing `.0`.
pub fn fmt_number(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if (r - r.round()).abs() < 1e-9 {
        format!("{}", r.round() as i64)
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_and_parks_are_rows_of_a_fixed_length() {
        let wake = Wake {
            seq: 8,
            t_ms: 300.0,
            task: 1,
            cause: WakeCause::Task,
            by: Some(2),
            line: None,
        };
        let row = serde_json::to_string(&wake).unwrap();
        assert_eq!(row, r#"[8,300.0,1,"task",2,null]"#);
        assert_eq!(serde_json::from_str::<Wake>(&row).unwrap(), wake);
        for bad in [r#"[8,300.0,1,"task",2]"#, r#"[8,300.0,1,"task",2,null,1]"#] {
            let err = serde_json::from_str::<Wake>(bad).unwrap_err().to_string();
            assert!(err.contains("a wake: [seq"), "{bad}: {err}");
        }
        let mut park = Parked {
            task: 2,
            t_ms: 0.5,
            line: 9,
            within: Some("asyncio.sleep".into()),
            file: None,
        };
        let row = serde_json::to_string(&park).unwrap();
        assert_eq!(row, r#"[2,0.5,9,"asyncio.sleep"]"#);
        assert_eq!(serde_json::from_str::<Parked>(&row).unwrap(), park);
        park.file = Some(1);
        park.within = None;
        let row = serde_json::to_string(&park).unwrap();
        assert_eq!(row, r#"[2,0.5,9,null,1]"#);
        assert_eq!(serde_json::from_str::<Parked>(&row).unwrap(), park);
        for bad in [r#"[2,0.5,9]"#, r#"[2,0.5,9,null,1,1]"#, r#"{"task":2}"#] {
            let err = serde_json::from_str::<Parked>(bad).unwrap_err().to_string();
            assert!(err.contains("a park: [task"), "{bad}: {err}");
        }
    }

    fn task(spawned: f64, finished: Option<f64>, polls: Vec<(f64, f64)>) -> TaskRecord {
        TaskRecord {
            file: None,
            id: 1,
            name: "t".into(),
            parent: None,
            spawned_ms: spawned,
            finished_ms: finished,
            outcome: Outcome::Ok,
            detail: String::new(),
            polls,
            seqs: Vec::new(),
            line: None,
        }
    }

    fn mark(t_ms: f64, task: TaskId) -> Mark {
        Mark {
            file: None,
            t_ms,
            task: Some(task),
            label: "m".into(),
            line: None,
            seq: 0,
        }
    }

    fn letters(cells: &[Cell]) -> String {
        cells
            .iter()
            .map(|c| match c {
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
            })
            .collect()
    }

    /// `t`'s cells on `scale` with no wakes recorded.
    fn plain(t: &TaskRecord, marks: &[Mark], scale: &TimeScale) -> String {
        letters(&lane_cells(t, wakes::LaneWakes::NONE, marks, scale))
    }

    /// `snap`'s lane `pos` on `scale`, its wakes indexed as the app indexes them.
    fn woken(snap: &TimelineSnapshot, pos: usize, scale: &TimeScale) -> String {
        let index = wakes::WakeIndex::new(snap);
        letters(&lane_cells(
            &snap.tasks[pos],
            index.lane(snap, pos),
            &snap.marks,
            scale,
        ))
    }

    fn wake(seq: u64, t_ms: f64, task: TaskId, cause: WakeCause, by: Option<TaskId>) -> Wake {
        Wake {
            seq,
            t_ms,
            task,
            cause,
            by,
            line: None,
        }
    }

    fn run_of(tasks: Vec<TaskRecord>, wakes: Vec<Wake>) -> TimelineSnapshot {
        TimelineSnapshot {
            tasks,
            wakes,
            now_ms: 100.0,
            ..TimelineSnapshot::default()
        }
    }

    #[test]
    fn a_wait_is_drawn_by_what_ended_it() {
        // Columns of 10 ms. Polled at 0, 30, 60 and 90; woken at 30 by a task, at 60 by the
        // timer, at 90 by I/O; its last wait (90..100) ended with the run, unwoken.
        let mut t = task(
            0.0,
            None,
            vec![(0.0, 0.0), (30.0, 30.0), (60.0, 60.0), (90.0, 90.0)],
        );
        t.seqs = vec![0, 1, 3, 5, 7];
        let snap = run_of(
            vec![t],
            vec![
                wake(2, 30.0, 1, WakeCause::Task, Some(2)),
                wake(4, 60.0, 1, WakeCause::Timer, None),
                wake(6, 90.0, 1, WakeCause::Io, None),
            ],
        );
        let scale = TimeScale::new(0.0, 100.0, 10);
        assert_eq!(woken(&snap, 0, &scale), "|~~|..|::|");
        // The same lane with no wakes recorded: every wait as it always was.
        assert_eq!(plain(&snap.tasks[0], &[], &scale), "|--|--|--|");
        let mut by_thread = snap.clone();
        by_thread.wakes[2].cause = WakeCause::Thread;
        assert_eq!(woken(&by_thread, 0, &scale), "|~~|..|==|");
    }

    #[test]
    fn woken_but_not_polled_is_scheduled_not_waiting() {
        // The blocking demo on the virtual clock: the ticker's timer fires at 100 ms, but main
        // holds the thread from 100 to 400 ms; the ticker is polled at 400.
        let mut ticker = task(
            0.0,
            Some(500.0),
            vec![(0.0, 0.0), (400.0, 400.0), (500.0, 500.0)],
        );
        ticker.id = 2;
        ticker.seqs = vec![2, 3, 6, 8, 9];
        let mut main = task(
            0.0,
            Some(500.0),
            vec![(0.0, 0.0), (100.0, 400.0), (500.0, 500.0)],
        );
        main.seqs = vec![0, 1, 5, 10, 11];
        let snap = run_of(
            vec![main, ticker],
            vec![
                wake(4, 100.0, 2, WakeCause::Timer, None),
                wake(7, 500.0, 2, WakeCause::Timer, None),
            ],
        );
        let scale = TimeScale::new(0.0, 500.0, 10);
        assert_eq!(woken(&snap, 1, &scale), "|.++++++|.");
        assert_eq!(woken(&snap, 0, &scale), "|-######--");
    }

    #[test]
    fn a_future_never_polled_is_not_started_and_a_spawned_one_is_scheduled() {
        // "never awaited": a lane made in place at 0 and dropped at 300 ms without a poll.
        let never = task(0.0, Some(300.0), vec![]);
        // "awaited later": first polled at 200 ms, no wake needed (its parent polled it).
        let mut later = task(0.0, Some(300.0), vec![(200.0, 200.0), (300.0, 300.0)]);
        later.id = 2;
        // Spawned at 0 and woken by its spawn, first polled at 200 (the thread was held).
        let mut spawned = task(0.0, Some(300.0), vec![(200.0, 200.0)]);
        spawned.id = 3;
        let snap = run_of(
            vec![never, later, spawned],
            vec![
                wake(0, 0.0, 3, WakeCause::Spawn, None),
                wake(1, 300.0, 2, WakeCause::Timer, None),
            ],
        );
        let scale = TimeScale::new(0.0, 300.0, 6);
        assert_eq!(woken(&snap, 0, &scale), "______");
        assert_eq!(woken(&snap, 1, &scale), "____|.");
        assert_eq!(woken(&snap, 2, &scale), "++++|-");
    }

    #[test]
    fn a_column_shows_the_state_that_fills_most_of_it() {
        // Columns of 10 ms: waiting 0..13 for a task, scheduled 13..20: column 1 is mostly
        // scheduled (7 of 10 ms); 20..24 scheduled then polled 24..25 (a short poll wins).
        let mut t = task(0.0, Some(30.0), vec![(0.0, 0.0), (24.0, 25.0)]);
        t.seqs = vec![0, 1, 3, 4];
        let snap = run_of(vec![t], vec![wake(2, 13.0, 1, WakeCause::Task, Some(2))]);
        let scale = TimeScale::new(0.0, 30.0, 3);
        assert_eq!(woken(&snap, 0, &scale), "|+|");
        let scale = TimeScale::new(0.0, 30.0, 6);
        assert_eq!(woken(&snap, 0, &scale), "|~~+|-");
    }

    #[test]
    fn half_a_column_of_polling_is_running_and_less_is_a_short_poll() {
        // Columns of 10 ms. Polls: 4 ms in column 1, exactly 5 ms in column 3, 0 ms at 55.
        let t = task(
            0.0,
            Some(80.0),
            vec![(12.0, 16.0), (30.0, 35.0), (55.0, 55.0)],
        );
        let scale = TimeScale::new(0.0, 100.0, 10);
        // Before its first poll it had not started: nothing recorded scheduled it.
        assert_eq!(plain(&t, &[], &scale), "_|-#-|--  ");
    }

    #[test]
    fn columns_are_half_open_but_marks_at_the_end_stay_on_the_scale() {
        // A last poll at exactly the end of the scale is outside every [a, b) slice; a mark
        // there is drawn in the last column.
        let t = task(0.0, None, vec![(0.0, 0.0), (100.0, 100.0)]);
        let scale = TimeScale::new(0.0, 100.0, 10);
        assert_eq!(plain(&t, &[], &scale), "|---------");
        let marks = [mark(100.0, 1), mark(50.0, 2)];
        assert_eq!(plain(&t, &marks, &scale), "|--------*");
    }

    #[test]
    fn a_task_that_lives_for_no_time_still_shows_where_it_was() {
        let t = task(42.0, Some(42.0), vec![(42.0, 42.0)]);
        let scale = TimeScale::new(0.0, 100.0, 10);
        assert_eq!(plain(&t, &[], &scale), "    |     ");
    }

    #[test]
    fn a_window_shows_only_its_own_slice() {
        // Zoomed to 40..60 ms in 4 columns of 5 ms: the poll 38..47 fills 40..45 and 2 ms of 45..50.
        let t = task(0.0, Some(100.0), vec![(38.0, 47.0), (90.0, 95.0)]);
        let scale = TimeScale::new(40.0, 60.0, 4);
        assert_eq!(plain(&t, &[], &scale), "#|--");
        assert_eq!(scale.column(39.9), None);
        assert_eq!(scale.column(60.0), Some(3));
        assert_eq!(scale.bounds(2), (50.0, 55.0));
    }

    #[test]
    fn times_read_in_ms_then_seconds() {
        assert_eq!(fmt_ms(300.0), "300 ms");
        assert_eq!(fmt_ms(333.3333), "333.3 ms");
        assert_eq!(fmt_ms(12_500.0), "12.5 s");
    }
}
