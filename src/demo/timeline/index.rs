//! A recorded run indexed once, when it finishes, so the time cursor and the code pane can point
//! at each other in O(log n) a step: every event in time order with the line of the shown file it
//! is attributed to, each line's events, lane counts by time, and where every lane is.
//!
//! Events at one instant are in the order they happened: the order of their `seq`, which the
//! recorder (and the asyncio tracer) numbered as they were recorded. Only a timeline made by hand
//! without seqs (all 0) falls back to an order of convenience: each task's events together, in id
//! order, then what belongs to no task.
//!
//! The attribution rule (the README's app section states it for learners):
//! - a spawn is at the line of the call that spawned or instrumented the task
//!   ([`TaskRecord::line`](super::TaskRecord::line));
//! - a mark is at its own line ([`Mark::line`](super::Mark::line));
//! - between events a lane is at the latest line it is known to have reached: its last mark with
//!   a line, else its spawn line. Its polls and its finish are attributed to that line, and it
//!   leaves every line when it finishes;
//! - a series change has no line;
//! - a wake is at the line of the task that woke it, when known
//!   ([`Wake::line`](super::Wake::line)); it moves no lane.
//!
//! Only calls in the shown file have lines, so a lane spawned elsewhere (a demo's `main`) is at
//! no line until it makes a mark there.

use super::wakes::{self, Lines, WakeIndex};
use super::{TaskId, TimelineSnapshot, WakeCause};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Spawn,
    /// `TimelineSnapshot::wakes[wake]`: the task was woken (it is the woken task's event).
    Wake {
        wake: u32,
    },
    /// The start of the task's poll number `nth` (0-based, into `TaskRecord::polls`).
    Poll {
        nth: u32,
    },
    /// `TimelineSnapshot::marks[mark]`.
    Mark {
        mark: u32,
    },
    Finish,
    /// Point `point` of the `series`-th series, in name order.
    Series {
        series: u32,
        point: u32,
    },
}

impl EventKind {
    /// Without seqs, a task's events at one instant read in this order: spawned, woken, polled,
    /// marked, finished.
    fn rank(self) -> u8 {
        match self {
            EventKind::Spawn => 0,
            EventKind::Wake { .. } => 1,
            EventKind::Poll { .. } => 2,
            EventKind::Mark { .. } => 3,
            EventKind::Finish => 4,
            EventKind::Series { .. } => 5,
        }
    }
}

/// One thing that happened, where the cursor can stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub t_ms: f64,
    /// Its place in the run's order of events: at one instant, events are visited in this order.
    pub seq: u64,
    /// The task it happened to (`None` for a series change or a mark made outside any task).
    pub task: Option<TaskId>,
    pub kind: EventKind,
    /// The line of the shown file it is attributed to (see the module's rule).
    pub line: Option<u32>,
}

/// How many lanes are at a line of the shown file, and which one when it is just one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneLine {
    pub line: u32,
    pub count: u32,
    pub task: Option<TaskId>,
}

/// A lane moving from one line to another at an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Move {
    event: u32,
    task: TaskId,
    from: Option<u32>,
    to: Option<u32>,
}

/// How many lanes are at each line (and the sum of their ids, which names the lane when the
/// count is one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Occupancy {
    count: Vec<u32>,
    ids: Vec<u64>,
}

impl Occupancy {
    fn new(lines: usize) -> Occupancy {
        Occupancy {
            count: vec![0; lines],
            ids: vec![0; lines],
        }
    }

    fn apply(&mut self, mv: &Move) {
        if let Some(l) = mv.from {
            self.count[l as usize] -= 1;
            self.ids[l as usize] -= u64::from(mv.task);
        }
        if let Some(l) = mv.to {
            self.count[l as usize] += 1;
            self.ids[l as usize] += u64::from(mv.task);
        }
    }
}

/// Lane positions are stored whole every this many moves; a lookup replays at most this many.
const CHECKPOINT_EVERY: usize = 256;

/// A finished run's events, indexed. Built once per run (`new`), never per frame or per step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunIndex {
    events: Vec<Event>,
    /// Per line (index = line number), the indices of its events, in time order.
    by_line: Vec<Vec<u32>>,
    moves: Vec<Move>,
    /// Lane positions after the first `i * CHECKPOINT_EVERY` moves.
    checkpoints: Vec<Occupancy>,
    spawns: Vec<f64>,
    finishes: Vec<f64>,
    poll_starts: Vec<f64>,
    poll_ends: Vec<f64>,
    /// Per task, the instant it stopped being "not started" (its first poll or wake, else its
    /// end), sorted: with `spawns`, how many lanes had not started at an instant.
    starts: Vec<f64>,
    /// `poll_events[poll_base[p] + nth]`: the event of task `p`'s poll `nth`.
    poll_base: Vec<u32>,
    poll_events: Vec<u32>,
    /// Per wake (into `TimelineSnapshot::wakes`), its event (`u32::MAX` for a wake of a task the
    /// run has no lane for: it is not an event).
    wake_events: Vec<u32>,
    /// Per task, its spawn's event.
    spawn_events: Vec<u32>,
    wakes: WakeIndex,
    lines: Lines,
}

impl RunIndex {
    pub fn new(snap: &TimelineSnapshot) -> RunIndex {
        let mut events = Vec::new();
        for t in &snap.tasks {
            let task = Some(t.id);
            events.push(Event {
                t_ms: t.spawned_ms,
                seq: t.spawned_seq().unwrap_or(0),
                task,
                kind: EventKind::Spawn,
                line: t.line,
            });
            for (nth, &(a, _)) in t.polls.iter().enumerate() {
                events.push(Event {
                    t_ms: a,
                    seq: t.poll_seq(nth).unwrap_or(0),
                    task,
                    kind: EventKind::Poll { nth: nth as u32 },
                    line: None,
                });
            }
            if let Some(f) = t.finished_ms {
                events.push(Event {
                    t_ms: f,
                    seq: t.finished_seq().unwrap_or(0),
                    task,
                    kind: EventKind::Finish,
                    line: None,
                });
            }
        }
        for (i, w) in snap.wakes.iter().enumerate() {
            // Wakes of tasks that are not recorded (runtime internals) are not events.
            if wakes::position(snap, w.task).is_none() {
                continue;
            }
            events.push(Event {
                t_ms: w.t_ms,
                seq: w.seq,
                task: Some(w.task),
                kind: EventKind::Wake { wake: i as u32 },
                line: w.line,
            });
        }
        for (i, m) in snap.marks.iter().enumerate() {
            events.push(Event {
                t_ms: m.t_ms,
                seq: m.seq,
                task: m.task,
                kind: EventKind::Mark { mark: i as u32 },
                line: m.line,
            });
        }
        for (s, (name, points)) in snap.series.iter().enumerate() {
            let seqs = snap.series_seqs.get(name).map_or(&[][..], Vec::as_slice);
            for (p, (t, _)) in points.iter().enumerate() {
                events.push(Event {
                    t_ms: *t,
                    seq: seqs.get(p).copied().unwrap_or(0),
                    task: None,
                    kind: EventKind::Series {
                        series: s as u32,
                        point: p as u32,
                    },
                    line: None,
                });
            }
        }
        // Time first, then the recorded order (see the module's docs for a timeline without it).
        let by_task = |e: &Event| e.task.unwrap_or(TaskId::MAX);
        events.sort_by(|a, b| {
            a.t_ms
                .total_cmp(&b.t_ms)
                .then(a.seq.cmp(&b.seq))
                .then(by_task(a).cmp(&by_task(b)))
                .then(a.kind.rank().cmp(&b.kind.rank()))
                .then(secondary(a.kind).cmp(&secondary(b.kind)))
        });

        // Walk the events once: attribute polls and finishes, record every lane's moves.
        let lines = snap
            .tasks
            .iter()
            .filter_map(|t| t.line)
            .chain(snap.marks.iter().filter_map(|m| m.line))
            .chain(snap.wakes.iter().filter_map(|w| w.line))
            .max()
            .map_or(1, |l| l as usize + 1);
        let mut at: Vec<Option<u32>> = vec![None; snap.tasks.len() + 1];
        let mut moves = Vec::new();
        let mut by_line: Vec<Vec<u32>> = vec![Vec::new(); lines];
        for (i, e) in events.iter_mut().enumerate() {
            let slot = e.task.map(|id| id as usize).filter(|&id| id < at.len());
            let now = slot.and_then(|s| at[s]);
            let next = match e.kind {
                EventKind::Spawn => e.line,
                EventKind::Mark { .. } => e.line.or(now),
                EventKind::Poll { .. } => {
                    e.line = now;
                    now
                }
                EventKind::Finish => {
                    e.line = now;
                    None
                }
                EventKind::Series { .. } | EventKind::Wake { .. } => now,
            };
            if let (Some(s), Some(task)) = (slot, e.task)
                && next != now
            {
                at[s] = next;
                moves.push(Move {
                    event: i as u32,
                    task,
                    from: now,
                    to: next,
                });
            }
            if let Some(l) = e.line {
                by_line[l as usize].push(i as u32);
            }
        }
        let mut checkpoints = vec![Occupancy::new(lines)];
        let mut state = Occupancy::new(lines);
        for (i, mv) in moves.iter().enumerate() {
            state.apply(mv);
            if (i + 1) % CHECKPOINT_EVERY == 0 {
                checkpoints.push(state.clone());
            }
        }

        let mut poll_base = Vec::with_capacity(snap.tasks.len() + 1);
        let mut n = 0u32;
        for t in &snap.tasks {
            poll_base.push(n);
            n += t.polls.len() as u32;
        }
        poll_base.push(n);
        let mut poll_events = vec![u32::MAX; n as usize];
        let mut wake_events = vec![u32::MAX; snap.wakes.len()];
        let mut spawn_events = vec![u32::MAX; snap.tasks.len()];
        let mut first_wake = vec![f64::INFINITY; snap.tasks.len()];
        for (i, e) in events.iter().enumerate() {
            let Some(p) = e.task.and_then(|id| wakes::position(snap, id)) else {
                continue;
            };
            match e.kind {
                EventKind::Poll { nth } => poll_events[(poll_base[p] + nth) as usize] = i as u32,
                EventKind::Wake { wake } => {
                    wake_events[wake as usize] = i as u32;
                    first_wake[p] = first_wake[p].min(e.t_ms);
                }
                EventKind::Spawn => spawn_events[p] = i as u32,
                _ => {}
            }
        }

        let sorted = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v
        };
        RunIndex {
            events,
            by_line,
            moves,
            checkpoints,
            spawns: sorted(snap.tasks.iter().map(|t| t.spawned_ms).collect()),
            finishes: sorted(snap.tasks.iter().filter_map(|t| t.finished_ms).collect()),
            poll_starts: sorted(
                snap.tasks
                    .iter()
                    .flat_map(|t| t.polls.iter().map(|p| p.0))
                    .collect(),
            ),
            poll_ends: sorted(
                snap.tasks
                    .iter()
                    .flat_map(|t| t.polls.iter().map(|p| p.1))
                    .collect(),
            ),
            starts: sorted(
                snap.tasks
                    .iter()
                    .zip(&first_wake)
                    .map(|(t, &w)| {
                        let polled = t.polls.first().map_or(f64::INFINITY, |p| p.0);
                        polled.min(w).min(t.finished_ms.unwrap_or(f64::INFINITY))
                    })
                    .collect(),
            ),
            poll_base,
            poll_events,
            wake_events,
            spawn_events,
            wakes: WakeIndex::new(snap),
            lines: Lines::new(snap),
        }
    }

    /// Every task's wakes, gap by gap (what the lanes are drawn from).
    pub fn wakes(&self) -> &WakeIndex {
        &self.wakes
    }

    /// Who was polled when, and where tasks were (what the narration reads).
    pub fn lines(&self) -> &Lines {
        &self.lines
    }

    /// Tasks spawned by `t_ms` that had not started yet: never polled, never woken.
    pub fn not_started_at(&self, t_ms: f64) -> usize {
        let spawned = self.spawns.partition_point(|&t| t <= t_ms);
        let started = self.starts.partition_point(|&t| t <= t_ms);
        spawned.saturating_sub(started)
    }

    /// The cause chain, one step back from event `i`: for a wake, the event that caused it (the
    /// waking task's latest event then; for the timer, I/O, a thread or itself, the woken task's
    /// own latest event, where it began to wait; for its spawn, the spawn); for any other event of
    /// a task, the wake that made its current poll happen. `None` where the run recorded no cause.
    pub fn cause_of(&self, snap: &TimelineSnapshot, i: usize) -> Option<usize> {
        let e = self.events.get(i)?;
        let pos = wakes::position(snap, e.task?)?;
        match e.kind {
            EventKind::Wake { wake } => {
                let w = snap.wakes.get(wake as usize)?;
                match w.cause {
                    WakeCause::Spawn => self
                        .spawn_events
                        .get(pos)
                        .filter(|&&s| s != u32::MAX)
                        .map(|&s| s as usize),
                    WakeCause::Task => {
                        let by = wakes::position(snap, w.by?)?;
                        self.latest_of(by, i)
                    }
                    WakeCause::Timer | WakeCause::Io | WakeCause::Thread | WakeCause::SelfWake => {
                        self.latest_of(pos, i)
                    }
                }
            }
            _ => {
                let polls = self.polls_of(pos);
                let k = polls.partition_point(|&ev| ev as usize <= i);
                let nth = k.checked_sub(1)?;
                let wake = self.wakes.before_poll(pos, nth)?;
                let ev = *self.wake_events.get(wake)?;
                (ev != u32::MAX).then_some(ev as usize)
            }
        }
    }

    /// Task `pos`'s latest event before event `i`, searched back no further than the start of
    /// its latest poll before `i` (or its spawn).
    fn latest_of(&self, pos: usize, i: usize) -> Option<usize> {
        let polls = self.polls_of(pos);
        let k = polls.partition_point(|&ev| (ev as usize) < i);
        let floor = match k.checked_sub(1) {
            Some(k) => polls[k] as usize,
            None => *self.spawn_events.get(pos).filter(|&&s| s != u32::MAX)? as usize,
        };
        let id = self.events[floor].task;
        (floor..i).rev().find(|&j| self.events[j].task == id)
    }

    fn polls_of(&self, pos: usize) -> &[u32] {
        match (self.poll_base.get(pos), self.poll_base.get(pos + 1)) {
            (Some(&a), Some(&b)) => &self.poll_events[a as usize..b as usize],
            _ => &[],
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn event(&self, i: usize) -> Option<&Event> {
        self.events.get(i)
    }

    /// Every event, in the order the cursor visits them.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The first event at or after `t_ms`, else the last one.
    pub fn at_or_after(&self, t_ms: f64) -> Option<usize> {
        if self.events.is_empty() {
            return None;
        }
        let i = self.events.partition_point(|e| e.t_ms < t_ms);
        Some(i.min(self.events.len() - 1))
    }

    /// The first event of the latest instant at or before `t_ms`, else the first event: where a
    /// cursor at `t_ms` lands on this run without passing anything that happened after it.
    pub fn at_or_before(&self, t_ms: f64) -> Option<usize> {
        if self.events.is_empty() {
            return None;
        }
        let after = self.events.partition_point(|e| e.t_ms <= t_ms);
        let Some(last) = after.checked_sub(1) else {
            return Some(0);
        };
        let t = self.events[last].t_ms;
        Some(self.events.partition_point(|e| e.t_ms < t))
    }

    /// The first event of the next instant after event `i`'s.
    pub fn next_instant(&self, i: usize) -> Option<usize> {
        let t = self.events.get(i)?.t_ms;
        let j = self.events.partition_point(|e| e.t_ms <= t);
        (j < self.events.len()).then_some(j)
    }

    /// The first event of the instant before event `i`'s.
    pub fn prev_instant(&self, i: usize) -> Option<usize> {
        let t = self.events.get(i)?.t_ms;
        let j = self.events.partition_point(|e| e.t_ms < t);
        let before = self.events.get(j.checked_sub(1)?)?.t_ms;
        Some(self.events.partition_point(|e| e.t_ms < before))
    }

    /// The events attributed to `line`, in time order.
    pub fn line_events(&self, line: u32) -> &[u32] {
        self.by_line.get(line as usize).map_or(&[], Vec::as_slice)
    }

    /// `line`'s first event after event `i` (or its first, with no `i`).
    pub fn next_on_line(&self, line: u32, i: Option<usize>) -> Option<usize> {
        let on = self.line_events(line);
        let p = i.map_or(0, |i| on.partition_point(|&e| e as usize <= i));
        on.get(p).map(|&e| e as usize)
    }

    /// `line`'s last event before event `i` (or its last, with no `i`).
    pub fn prev_on_line(&self, line: u32, i: Option<usize>) -> Option<usize> {
        let on = self.line_events(line);
        let p = i.map_or(on.len(), |i| on.partition_point(|&e| (e as usize) < i));
        on.get(p.checked_sub(1)?).map(|&e| e as usize)
    }

    /// Where the lanes are just after event `i`: the lines with at least one lane, in order.
    pub fn lanes_at(&self, i: usize) -> Vec<LaneLine> {
        let applied = self.moves.partition_point(|m| m.event as usize <= i);
        let c = (applied / CHECKPOINT_EVERY).min(self.checkpoints.len() - 1);
        let mut state = self.checkpoints[c].clone();
        for mv in &self.moves[c * CHECKPOINT_EVERY..applied] {
            state.apply(mv);
        }
        state
            .count
            .iter()
            .zip(&state.ids)
            .enumerate()
            .filter(|(_, (n, _))| **n > 0)
            .map(|(line, (&count, &ids))| LaneLine {
                line: line as u32,
                count,
                task: (count == 1).then_some(ids as TaskId),
            })
            .collect()
    }

    /// Tasks alive at `t_ms` (spawned, not yet finished).
    pub fn alive_at(&self, t_ms: f64) -> usize {
        let spawned = self.spawns.partition_point(|&t| t <= t_ms);
        let ended = self.finishes.partition_point(|&t| t <= t_ms);
        spawned.saturating_sub(ended)
    }

    /// Tasks being polled at `t_ms`: polls `[a, b)` that hold it. A task's polls never overlap,
    /// so this counts tasks.
    pub fn running_at(&self, t_ms: f64) -> usize {
        let started = self.poll_starts.partition_point(|&t| t <= t_ms);
        let ended = self.poll_ends.partition_point(|&t| t <= t_ms);
        started.saturating_sub(ended)
    }
}

/// Within one kind, the recorded order.
fn secondary(kind: EventKind) -> (u32, u32) {
    match kind {
        EventKind::Spawn | EventKind::Finish => (0, 0),
        EventKind::Poll { nth } => (nth, 0),
        EventKind::Mark { mark } => (mark, 0),
        EventKind::Wake { wake } => (wake, 0),
        EventKind::Series { series, point } => (series, point),
    }
}

#[cfg(test)]
mod tests;
