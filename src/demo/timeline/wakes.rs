//! What the recorded wakes mean, defined once for both runtimes: which wake made each poll
//! happen, how long a task sat scheduled (woken, not yet polled), the ready queue over a run
//! (`ready`, `max_sched_ms`, `median_sched_ms`) and who held the thread meanwhile.
//!
//! A task's life between its polls is cut into *gaps*: gap `k` ends at the start of poll `k`
//! (gap 0 runs from its spawn), and the last gap (number `polls.len()`) runs from its last poll
//! to its end. At most one wake falls in a gap (`docs/run-document.md`): the one that ended the
//! task's waiting. A gap with no wake before its poll is a first poll that needed none (a future
//! given a lane in place, polled by its parent) or a run recorded without wakes.
//!
//! Events are put in the order the cursor visits them ([`super::index`]): by time, then by seq;
//! a timeline made by hand without seqs puts a wake before a poll that starts at its instant.

use super::{TaskId, TaskRecord, TimelineSnapshot, Wake, WakeCause};

/// The name of the built-in series: tasks scheduled and not yet being polled.
pub const READY: &str = "ready";
pub const MAX_SCHED: &str = "max_sched_ms";
pub const MEDIAN_SCHED: &str = "median_sched_ms";

const NONE: u32 = u32::MAX;

/// Holders a sentence names (with their lines); the rest are counted.
pub const NAMED_HOLDERS: usize = 3;

/// For every task, the wake that ended each of its gaps. Built once per snapshot (a finished
/// run's [`super::index::RunIndex`] holds one; a live run's view builds one per new snapshot),
/// never per frame: a lane's cells then cost a slice lookup, not a search of every wake.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WakeIndex {
    /// `slots[base[p]..base[p + 1]]` are task `p`'s (its position in `tasks`): one per gap.
    base: Vec<u32>,
    /// Index into `TimelineSnapshot::wakes`, or `NONE`.
    slots: Vec<u32>,
}

impl WakeIndex {
    /// The index of a run with no tasks: every lane drawn without wakes.
    pub const EMPTY: WakeIndex = WakeIndex {
        base: Vec::new(),
        slots: Vec::new(),
    };

    pub fn new(snap: &TimelineSnapshot) -> WakeIndex {
        let mut base = Vec::with_capacity(snap.tasks.len() + 1);
        let mut n = 0u32;
        for t in &snap.tasks {
            base.push(n);
            n += t.polls.len() as u32 + 1;
        }
        base.push(n);
        let mut slots = vec![NONE; n as usize];
        if !snap.wakes.is_empty() {
            for (i, w) in snap.wakes.iter().enumerate() {
                let Some(p) = position(snap, w.task) else {
                    // A wake of a task the run has no lane for: nothing to draw it on.
                    continue;
                };
                let gap = gap_of(&snap.tasks[p], w);
                slots[base[p] as usize + gap] = i as u32;
            }
        }
        WakeIndex { base, slots }
    }

    /// Task `pos`'s wakes, one per gap (empty for a position the index does not know).
    pub fn lane<'a>(&'a self, snap: &'a TimelineSnapshot, pos: usize) -> LaneWakes<'a> {
        match (self.base.get(pos), self.base.get(pos + 1)) {
            (Some(&a), Some(&b)) => LaneWakes {
                wakes: &snap.wakes,
                slots: &self.slots[a as usize..b as usize],
            },
            _ => LaneWakes::NONE,
        }
    }

    /// The index (into `wakes`) of the wake that preceded poll `nth` of task `pos`.
    pub fn before_poll(&self, pos: usize, nth: usize) -> Option<usize> {
        let a = *self.base.get(pos)? as usize;
        let b = *self.base.get(pos + 1)? as usize;
        let s = *self.slots.get(a + nth).filter(|_| a + nth < b)?;
        (s != NONE).then_some(s as usize)
    }
}

/// One task's wakes, gap by gap: what the rasteriser reads.
#[derive(Debug, Clone, Copy)]
pub struct LaneWakes<'a> {
    wakes: &'a [Wake],
    slots: &'a [u32],
}

impl<'a> LaneWakes<'a> {
    /// A lane with no recorded wakes.
    pub const NONE: LaneWakes<'static> = LaneWakes {
        wakes: &[],
        slots: &[],
    };

    /// The wake that ended gap `k` (the one before poll `k`; `polls.len()` is the last gap).
    pub fn ending(&self, gap: usize) -> Option<&'a Wake> {
        let s = *self.slots.get(gap)?;
        self.wakes.get(s as usize)
    }
}

/// The position in `tasks` of task `id`: ids are positions + 1 in every recorded run; a
/// document that broke that is searched.
pub fn position(snap: &TimelineSnapshot, id: TaskId) -> Option<usize> {
    let p = (id as usize).wrapping_sub(1);
    if snap.tasks.get(p).is_some_and(|t| t.id == id) {
        return Some(p);
    }
    snap.tasks.iter().position(|t| t.id == id)
}

/// The task a wake woke (its position) and the gap of its life the wake ended.
pub fn gap(snap: &TimelineSnapshot, w: &Wake) -> Option<(usize, usize)> {
    let p = position(snap, w.task)?;
    Some((p, gap_of(&snap.tasks[p], w)))
}

/// The gap of `task` a wake falls in: the number of its polls that started before it.
fn gap_of(task: &TaskRecord, w: &Wake) -> usize {
    let n = task.polls.len();
    if task.seqs.len() > n {
        // Polls are in order: the first not before the wake, by binary search.
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if before(task.polls[mid].0, task.poll_seq(mid), w) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    } else {
        task.polls.partition_point(|&(a, _)| a < w.t_ms)
    }
}

/// Is a poll starting at `t` (with `seq`) before wake `w` in the cursor's order?
fn before(t: f64, seq: Option<u64>, w: &Wake) -> bool {
    match t.total_cmp(&w.t_ms) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => seq.is_some_and(|s| s < w.seq),
    }
}

/// A task's stay in the ready queue: from a wake to its next poll (`None` when it was never
/// polled again: it finished or the run ended first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheduled {
    pub task: TaskId,
    /// Index into `wakes`.
    pub wake: usize,
    pub from_ms: f64,
    /// The poll it ended in: its number and start.
    pub poll: Option<(usize, f64)>,
}

impl Scheduled {
    pub fn ms(&self) -> Option<f64> {
        self.poll.map(|(_, p)| p - self.from_ms)
    }
}

/// Every scheduled interval of the run, in wake order.
pub fn scheduled(snap: &TimelineSnapshot, index: &WakeIndex) -> Vec<Scheduled> {
    let mut out = Vec::with_capacity(snap.wakes.len());
    for (p, t) in snap.tasks.iter().enumerate() {
        for gap in 0..=t.polls.len() {
            if let Some(w) = index.lane(snap, p).slots.get(gap).filter(|&&s| s != NONE) {
                let wake = &snap.wakes[*w as usize];
                out.push(Scheduled {
                    task: t.id,
                    wake: *w as usize,
                    from_ms: wake.t_ms,
                    poll: t.polls.get(gap).map(|&(a, _)| (gap, a)),
                });
            }
        }
    }
    out.sort_by_key(|s| s.wake);
    out
}

/// The ready queue: tasks scheduled and not yet being polled, as a step function with the seq of
/// the wake, poll start or finish that changed it. A wake adds one; the poll it led to (or the
/// task's end, when none came) takes it away.
pub fn ready_series(snap: &TimelineSnapshot, index: &WakeIndex) -> Vec<(f64, u64, f64)> {
    // (instant, seq, rank: a wake before a poll or a finish at one instant without seqs, +1/-1)
    let mut steps: Vec<(f64, u64, u8, i64)> = Vec::with_capacity(snap.wakes.len() * 2);
    for s in scheduled(snap, index) {
        let w = &snap.wakes[s.wake];
        steps.push((w.t_ms, w.seq, 0, 1));
        let Some(p) = position(snap, s.task) else {
            continue;
        };
        let t = &snap.tasks[p];
        match s.poll {
            Some((nth, at)) => steps.push((at, t.poll_seq(nth).unwrap_or(w.seq), 1, -1)),
            None => {
                if let Some(f) = t.finished_ms {
                    steps.push((f.max(w.t_ms), t.finished_seq().unwrap_or(w.seq), 2, -1));
                }
            }
        }
    }
    // In time order, and at one instant in the order of the seqs (as the cursor visits events).
    // Not in seq order alone: a timer wake is dated back to its deadline when a held thread made
    // the loop fire it late, so its seq comes after events of later instants.
    steps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    // A step function, as every series is: one point per instant (the count once the instant's
    // wakes and polls are done: on the virtual clock a task woken and polled at one instant was
    // never waiting at any instant), and no point that repeats the value before it.
    let mut n = 0i64;
    let mut points: Vec<(f64, u64, f64)> = Vec::new();
    for (t, seq, _, d) in steps {
        n = (n + d).max(0);
        let v = n as f64;
        match points.last_mut() {
            Some(last) if last.0 == t => *last = (t, seq, v),
            _ => points.push((t, seq, v)),
        }
        // The queue is empty before anything is woken: a first point of 0 says nothing.
        let k = points.len();
        let before = if k >= 2 { points[k - 2].2 } else { 0.0 };
        if points[k - 1].2 == before {
            points.pop();
        }
    }
    points
}

/// The largest and the median wake→poll time over every wake followed by a poll (the median of
/// an even count is the mean of the middle two).
pub fn sched_metrics(intervals: &[Scheduled]) -> Option<(f64, f64)> {
    let mut ms: Vec<f64> = intervals.iter().filter_map(Scheduled::ms).collect();
    if ms.is_empty() {
        return None;
    }
    ms.sort_by(f64::total_cmp);
    let mid = ms.len() / 2;
    let median = if ms.len() % 2 == 1 {
        ms[mid]
    } else {
        (ms[mid - 1] + ms[mid]) / 2.0
    };
    Some((ms[ms.len() - 1], median))
}

impl TimelineSnapshot {
    /// Adds the ready queue to a finished run: the series `ready` and the metrics `max_sched_ms`
    /// and `median_sched_ms`, from its wakes. A run without wakes gets nothing (it is drawn as it
    /// always was); adding it twice gives the same run.
    pub fn add_ready_queue(&mut self) {
        if self.wakes.is_empty() {
            return;
        }
        let index = WakeIndex::new(self);
        let series = ready_series(self, &index);
        let metrics = sched_metrics(&scheduled(self, &index));
        if series.is_empty() {
            // Nothing ever waited in it (every wake polled at once): no strip of zeros.
            self.series.remove(READY);
            self.series_seqs.remove(READY);
        } else {
            self.series_seqs.insert(
                READY.to_owned(),
                series.iter().map(|&(_, seq, _)| seq).collect(),
            );
            self.series.insert(
                READY.to_owned(),
                series.into_iter().map(|(t, _, n)| (t, n.into())).collect(),
            );
        }
        if let Some((max, median)) = metrics {
            self.metrics.insert(MAX_SCHED.to_owned(), json_ms(max));
            self.metrics
                .insert(MEDIAN_SCHED.to_owned(), json_ms(median));
        }
    }
}

/// Whether a metric is one of the ready queue's at 0 ms: nothing ever waited for the thread,
/// which a run's header leaves unsaid (the metric is still there to be asked for).
pub fn unremarkable(name: &str, value: &serde_json::Value) -> bool {
    (name == MAX_SCHED || name == MEDIAN_SCHED) && value.as_f64() == Some(0.0)
}

/// A duration as the document's metrics carry it: to a microsecond, so float noise of the real
/// clock does not show as `0.30000000000000004`.
fn json_ms(ms: f64) -> serde_json::Value {
    let r = (ms * 1000.0).round() / 1000.0;
    serde_json::Number::from_f64(r).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// What a cause reads as after "woken … ": `by the timer`, `by worker at line 12`.
pub fn cause_words(snap: &TimelineSnapshot, w: &Wake) -> String {
    match w.cause {
        WakeCause::Task => {
            let by =
                w.by.and_then(|id| position(snap, id))
                    .map_or("a task", |p| snap.tasks[p].name.as_str());
            let at = w.line.map(|l| format!(" at line {l}")).unwrap_or_default();
            format!("by {by}{at}")
        }
        WakeCause::Timer => "by the timer".to_owned(),
        WakeCause::Io => "by I/O".to_owned(),
        WakeCause::Thread => "by another thread".to_owned(),
        WakeCause::SelfWake => "by itself".to_owned(),
        WakeCause::Spawn => "by its spawn".to_owned(),
    }
}

/// A task polled while another sat in the ready queue: it held the thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holder {
    /// Its position in `tasks`.
    pub pos: usize,
    /// How long it was polled within the interval.
    pub ms: f64,
    /// Where it was: see [`Lines::holder_line`].
    pub line: Option<u32>,
}

/// What a finished run's narration looks up: every poll by start (who was polled during an
/// interval), and each task's marks with a line and its parks (where it was). Built once per run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines {
    /// (start, end, task position), by start.
    polls: Vec<(f64, f64, u32)>,
    /// `reach[i]`: the latest end of `polls[..=i]`, so a backward search for polls still going
    /// at an instant stops as soon as none can be.
    reach: Vec<f64>,
    mark_base: Vec<u32>,
    /// Per task, the indices of its marks that have a line, in time order.
    marks: Vec<u32>,
    park_base: Vec<u32>,
    /// Per task, the indices of its parks, in time order.
    parks: Vec<u32>,
}

impl Lines {
    pub fn new(snap: &TimelineSnapshot) -> Lines {
        let mut polls: Vec<(f64, f64, u32)> = snap
            .tasks
            .iter()
            .enumerate()
            .flat_map(|(p, t)| t.polls.iter().map(move |&(a, b)| (a, b, p as u32)))
            .collect();
        polls.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut reach = Vec::with_capacity(polls.len());
        let mut far = f64::NEG_INFINITY;
        for &(_, b, _) in &polls {
            far = far.max(b);
            reach.push(far);
        }
        let (mark_base, marks) = per_task(
            snap,
            snap.marks
                .iter()
                .enumerate()
                .filter(|(_, m)| m.line.is_some())
                .filter_map(|(i, m)| Some((m.task?, i))),
        );
        let (park_base, parks) = per_task(
            snap,
            snap.parks.iter().enumerate().map(|(i, k)| (k.task, i)),
        );
        Lines {
            polls,
            reach,
            mark_base,
            marks,
            park_base,
            parks,
        }
    }

    /// The tasks other than `except` polled during `[from, to)`, longest first; polls of no
    /// length count only when nothing took time. The first [`NAMED_HOLDERS`] carry their line
    /// (a sentence names no more; the rest are counted).
    pub fn holders(
        &self,
        snap: &TimelineSnapshot,
        from: f64,
        to: f64,
        except: usize,
    ) -> Vec<Holder> {
        let end = self.polls.partition_point(|p| p.0 < to);
        // (ms, start of its latest poll) per task; a map, so a busy interval costs its polls.
        let mut per: std::collections::HashMap<usize, (f64, f64)> = Default::default();
        for i in (0..end).rev() {
            if self.reach[i] < from {
                break;
            }
            let (a, b, p) = self.polls[i];
            let p = p as usize;
            let touches = b > from || (a >= from && a < to);
            if p == except || !touches {
                continue;
            }
            let ms = (b.min(to) - a.max(from)).max(0.0);
            per.entry(p).or_insert((0.0, a)).0 += ms;
        }
        let mut by_task: Vec<(usize, f64, f64)> =
            per.into_iter().map(|(p, (ms, a))| (p, ms, a)).collect();
        if by_task.iter().any(|h| h.1 > 0.0) {
            by_task.retain(|h| h.1 > 0.0);
        }
        by_task.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        by_task
            .into_iter()
            .enumerate()
            .map(|(i, (pos, ms, start))| Holder {
                pos,
                ms,
                line: (i < NAMED_HOLDERS)
                    .then(|| self.holder_line(snap, pos, start, to))
                    .flatten(),
            })
            .collect()
    }

    /// Where a task polled from `start` was by `to`: its latest mark with a line made in that
    /// poll, else where it parked when the poll ended (asyncio), else its last line known before
    /// (an earlier mark's, else its spawn's).
    pub fn holder_line(
        &self,
        snap: &TimelineSnapshot,
        pos: usize,
        start: f64,
        to: f64,
    ) -> Option<u32> {
        let mark = self.last_mark(snap, pos, to);
        if let Some((t, line)) = mark
            && t >= start
        {
            return Some(line);
        }
        let poll_end = snap.tasks[pos]
            .polls
            .iter()
            .rev()
            .find(|p| p.0 <= start)
            .map(|p| p.1)
            .filter(|&e| e <= to);
        if let Some(park) = poll_end.and_then(|e| self.park_at(snap, pos, e)) {
            return Some(park.line);
        }
        mark.map(|(_, l)| l).or(snap.tasks[pos].line)
    }

    /// A task's last line known at `t`: its latest mark with a line then, else its spawn line.
    pub fn line_at(&self, snap: &TimelineSnapshot, pos: usize, t: f64) -> Option<u32> {
        self.last_mark(snap, pos, t)
            .map(|(_, l)| l)
            .or(snap.tasks.get(pos)?.line)
    }

    /// Where task `pos` parked when a poll of it ended at `t`.
    pub fn park_at<'a>(
        &self,
        snap: &'a TimelineSnapshot,
        pos: usize,
        t: f64,
    ) -> Option<&'a super::Parked> {
        let mine = slice(&self.park_base, &self.parks, pos);
        let i = mine.partition_point(|&k| snap.parks[k as usize].t_ms < t);
        mine.get(i)
            .map(|&k| &snap.parks[k as usize])
            .filter(|k| k.t_ms == t)
    }

    fn last_mark(&self, snap: &TimelineSnapshot, pos: usize, t: f64) -> Option<(f64, u32)> {
        let mine = slice(&self.mark_base, &self.marks, pos);
        let i = mine.partition_point(|&m| snap.marks[m as usize].t_ms <= t);
        let m = &snap.marks[*mine.get(i.checked_sub(1)?)? as usize];
        Some((m.t_ms, m.line?))
    }
}

/// `items` (task id, index) grouped by task position, each group in the order given.
fn per_task(
    snap: &TimelineSnapshot,
    items: impl Iterator<Item = (TaskId, usize)>,
) -> (Vec<u32>, Vec<u32>) {
    let mut owned: Vec<(usize, u32)> = items
        .filter_map(|(id, i)| Some((position(snap, id)?, i as u32)))
        .collect();
    owned.sort_by_key(|&(p, i)| (p, i));
    let mut base = vec![0u32; snap.tasks.len() + 1];
    for &(p, _) in &owned {
        base[p + 1] += 1;
    }
    for p in 0..snap.tasks.len() {
        base[p + 1] += base[p];
    }
    (base, owned.into_iter().map(|(_, i)| i).collect())
}

fn slice<'a>(base: &[u32], items: &'a [u32], pos: usize) -> &'a [u32] {
    match (base.get(pos), base.get(pos + 1)) {
        (Some(&a), Some(&b)) => &items[a as usize..b as usize],
        _ => &[],
    }
}

#[cfg(test)]
mod tests;
