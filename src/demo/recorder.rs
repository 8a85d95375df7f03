//! The recorder: every spawn, poll, wake, finish, mark and series point of a run, timestamped
//! with the run's clock (tokio's, so a paused clock is followed; the system clock on a real-clock
//! run) and numbered by one counter (`seq`), so the order of events at one instant is recorded.
//! Cheap to clone; readers take immutable snapshots.
//!
//! The numbering, which the asyncio tracer (`twins/dojo/core.py`) follows call for call: a spawn,
//! a poll (as it starts), a wake (the one that makes a task scheduled: see `ctx.rs`), a mark, a
//! finish (the first; a task finishes once) and a series point that is added or changes value
//! each take the next number. A spawned task's spawn is followed at once by its wake (cause
//! `spawn`), the next number. A series call that changes nothing takes none, and one that undoes
//! the point at its instant takes none either. The end of a poll takes none: it is the one thing
//! every poll has, and a number for it would add one per poll to the document to order nothing
//! the time cursor visits.
//!
//! Every number is taken under the recorder's lock, so the lists (wakes, marks, a task's events)
//! are in the order of their numbers whatever thread recorded them, and a wake recorded before
//! the poll it causes has the smaller number.
//!
//! Memory: a run keeps at most [`EVENT_LIMIT`] polls and wakes (the two counted together: a busy
//! `yield_now` loop makes one of each per turn). Later ones are counted, not kept, and the run
//! gets the metric `events_dropped`. Spawns, finishes, marks and series points are always kept:
//! there is one of each per thing the demo did, not per turn of a loop.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::time::Instant;

use super::Clock;
use super::ctx::SetupError;
use super::timeline::{
    Mark, Outcome, SeriesValue, TaskId, TaskRecord, TimelineSnapshot, Wake, WakeCause,
};

/// The most polls and wakes (counted together) one run keeps; see the module's documentation.
pub const EVENT_LIMIT: u64 = 1_000_000;

/// The metric a run gets when it recorded more than [`EVENT_LIMIT`] polls and wakes: how many
/// later ones were counted but not kept.
pub const EVENTS_DROPPED: &str = "events_dropped";

#[derive(Debug)]
struct Inner {
    start: Instant,
    snapshot: TimelineSnapshot,
    /// Why the run as a whole failed (a server that could not listen, no temp dir): the first
    /// reason wins.
    run_error: Option<SetupError>,
    /// Bumped on every change, so a reader can tell whether to redraw.
    version: u64,
    /// The run's next seq. Under the lock, which every event takes anyway but a poll's start:
    /// that one takes it for its number alone, one atomic operation more per poll than a
    /// counter of its own would cost, and one less per wake (and per everything else), which
    /// would take the counter's as well as the lock's.
    seq: u64,
    /// Polls and wakes kept so far, and how many more there were (see [`EVENT_LIMIT`]).
    events: u64,
    dropped: u64,
    limit: u64,
}

impl Inner {
    /// Room for one more poll or wake? Counts it either way.
    #[inline]
    fn keep_event(&mut self) -> bool {
        if self.events < self.limit {
            self.events += 1;
            true
        } else {
            self.dropped += 1;
            false
        }
    }

    /// The snapshot with its `events_dropped` metric up to date: kept as a count while
    /// recording (a map insert per dropped event would cost more than the event), written
    /// whenever the snapshot is read.
    fn synced(&mut self) -> &mut TimelineSnapshot {
        if self.dropped > 0 {
            self.snapshot
                .metrics
                .insert(EVENTS_DROPPED.to_owned(), self.dropped.into());
        }
        &mut self.snapshot
    }
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
}

/// When and where in the run's order a poll began: [`Recorder::poll_start`] before the poll,
/// [`Recorder::poll`] after it.
#[derive(Debug, Clone, Copy)]
pub struct PollStart {
    at: Instant,
    seq: u64,
}

#[derive(Debug, Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
    /// Where the time comes from: the runtime's clock (which follows a paused clock), or the
    /// system clock directly when the run is on the real clock. The two read the same time on a
    /// runtime that never pauses, but tokio's costs more per read once any runtime in the process
    /// has paused its clock (it must look for a paused one), and a poll reads it twice (the
    /// `recorder_poll*` benches measure both).
    system_clock: bool,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// A recorder whose time zero is now, on the runtime's clock. Create it inside the run's
    /// runtime so a paused clock is the one it reads.
    pub fn new() -> Recorder {
        Recorder {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    start: Instant::now(),
                    snapshot: TimelineSnapshot::default(),
                    run_error: None,
                    version: 0,
                    seq: 0,
                    events: 0,
                    dropped: 0,
                    limit: EVENT_LIMIT,
                }),
            }),
            system_clock: false,
        }
    }

    /// A recorder for a run on `clock`: on the real clock it reads the system clock directly.
    pub fn on(clock: Clock) -> Recorder {
        Recorder {
            system_clock: clock == Clock::Real,
            ..Recorder::new()
        }
    }

    /// A recorder that keeps at most `limit` polls and wakes instead of [`EVENT_LIMIT`]: for
    /// tests of the bound that should not need a million events.
    #[doc(hidden)]
    pub fn with_event_limit(self, limit: u64) -> Recorder {
        self.lock().limit = limit;
        self
    }

    /// Do the two record the same run?
    pub fn same_run(&self, other: &Recorder) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The run's clock now.
    #[inline]
    fn instant(&self) -> Instant {
        if self.system_clock {
            Instant::from_std(std::time::Instant::now())
        } else {
            Instant::now()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock can only come from a bug in this file; the data is
        // still consistent (every update is a single push or assignment), so keep going.
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The start of a poll: the clock, and the poll's seq. Take it just before polling.
    #[inline]
    pub fn poll_start(&self) -> PollStart {
        let at = self.instant();
        let seq = next_seq(&mut self.lock().seq);
        PollStart { at, seq }
    }

    /// Milliseconds since the start of the run, on the run's clock.
    ///
    /// Outside a runtime (a task dropped while its runtime shuts down) tokio's clock would fall
    /// back to the wall clock, which means nothing on a paused run: use the last recorded instant.
    pub fn now_ms(&self) -> f64 {
        let inner = self.lock();
        self.elapsed_ms(&inner)
    }

    fn elapsed_ms(&self, inner: &Inner) -> f64 {
        if self.system_clock {
            return ms_between(inner.start, self.instant());
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return inner.snapshot.now_ms;
        }
        ms_between(inner.start, Instant::now())
    }

    fn stamp(&self, inner: &mut Inner) -> f64 {
        let t = self.elapsed_ms(inner);
        Self::advance(inner, t)
    }

    /// The run's time only moves forward, whatever order threads take the lock in.
    fn advance(inner: &mut Inner, t: f64) -> f64 {
        let t = t.max(inner.snapshot.now_ms);
        inner.snapshot.now_ms = t;
        inner.version += 1;
        t
    }

    pub fn new_task(&self, name: String, parent: Option<TaskId>) -> TaskId {
        self.new_task_at(name, parent, None)
    }

    /// A new task whose spawn (or instrument) call is `line` of the demo's shown file.
    pub fn new_task_at(&self, name: String, parent: Option<TaskId>, line: Option<u32>) -> TaskId {
        self.add_task(name, parent, line, false)
    }

    /// A new task that is spawned: scheduled at once, so its spawn is followed by its wake with
    /// cause `spawn` (the next seq), recorded under the same lock.
    pub fn new_spawned_task_at(
        &self,
        name: String,
        parent: Option<TaskId>,
        line: Option<u32>,
    ) -> TaskId {
        self.add_task(name, parent, line, true)
    }

    fn add_task(
        &self,
        name: String,
        parent: Option<TaskId>,
        line: Option<u32>,
        spawned: bool,
    ) -> TaskId {
        let mut inner = self.lock();
        let t = self.stamp(&mut inner);
        let id = inner.snapshot.tasks.len() as TaskId + 1;
        // Room for the spawn, two polls and the finish: most tasks need no more.
        let mut seqs = Vec::with_capacity(4);
        seqs.push(next_seq(&mut inner.seq));
        inner.snapshot.tasks.push(TaskRecord {
            file: None,
            id,
            name,
            parent,
            spawned_ms: t,
            finished_ms: None,
            outcome: Outcome::Running,
            detail: String::new(),
            polls: Vec::new(),
            seqs,
            line,
        });
        if spawned && inner.keep_event() {
            let seq = next_seq(&mut inner.seq);
            inner.snapshot.wakes.push(Wake {
                seq,
                t_ms: t,
                task: id,
                cause: WakeCause::Spawn,
                by: None,
                line: None,
            });
        }
        id
    }

    /// Record one poll. `start` was taken with [`Recorder::poll_start`] before the poll began.
    /// Polls only happen inside the run's runtime (its tasks and its blocking pool), so the clock
    /// read here is the run's and needs no check for a runtime; and it is read before the lock is
    /// taken, to hold it briefly.
    pub fn poll(&self, task: TaskId, start: PollStart) {
        let end = self.instant();
        let mut inner = self.lock();
        let begin = ms_between(inner.start, start.at);
        let end = ms_between(inner.start, end);
        let end = Self::advance(&mut inner, end);
        if !inner.keep_event() {
            return;
        }
        if let Some(t) = inner
            .snapshot
            .tasks
            .get_mut((task as usize).wrapping_sub(1))
        {
            t.polls.push((begin, end));
            t.seqs.push(start.seq);
        }
    }

    /// Record that `task` went from waiting to scheduled, because of `cause` (`by` the waking
    /// task when the cause is `task`; `line` its line in the shown file when known). Takes the
    /// run's next seq. Returns where the wake was put and its seq, so a cause that is only known
    /// a moment later (see `ctx.rs`: I/O or timer) can be set with [`Recorder::set_wake_cause`];
    /// `None` when it was not kept (an unknown task, or past [`EVENT_LIMIT`]).
    ///
    /// The clock is read before the lock, as a poll's is. Call it from the run's runtime (any of
    /// its threads, the blocking pool included); a wake from a thread outside it (cause
    /// `thread`) takes the careful path, since tokio's clock means nothing there on a paused run.
    #[inline]
    pub fn wake(
        &self,
        task: TaskId,
        cause: WakeCause,
        by: Option<TaskId>,
        line: Option<u32>,
    ) -> Option<(usize, u64)> {
        let at = (cause != WakeCause::Thread).then(|| self.instant());
        let mut inner = self.lock();
        let t = match at {
            Some(at) => {
                let t = ms_between(inner.start, at);
                Self::advance(&mut inner, t)
            }
            None => self.stamp(&mut inner),
        };
        if task == 0 || task as usize > inner.snapshot.tasks.len() {
            return None;
        }
        if !inner.keep_event() {
            return None;
        }
        // Under the lock, so the list is in seq order whatever thread woke whom.
        let seq = next_seq(&mut inner.seq);
        let wakes = &mut inner.snapshot.wakes;
        wakes.push(Wake {
            seq,
            t_ms: t,
            task,
            cause,
            by,
            line,
        });
        Some((wakes.len() - 1, seq))
    }

    /// When `task` last stopped being polled (its spawn, before its first poll): a timer due
    /// before then is not what it has been waiting for since.
    pub fn last_poll_end(&self, task: TaskId) -> f64 {
        let inner = self.lock();
        inner
            .snapshot
            .tasks
            .get((task as usize).wrapping_sub(1))
            .map_or(0.0, |t| t.polls.last().map_or(t.spawned_ms, |p| p.1))
    }

    /// Date the timer wake [`Recorder::wake`] put at `at` back to when its timer was due (`due_ms`,
    /// from [`super::timer_deadlines`]): a thread held past the deadline made the driver fire it
    /// late, and the task was ready from its deadline on. Never before the end of the task's last
    /// poll (a task polled for another reason after its deadline was not waiting then).
    pub fn date_wake(&self, (index, seq): (usize, u64), due_ms: f64) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(w) = inner.snapshot.wakes.get_mut(index) else {
            return;
        };
        if w.seq != seq || due_ms >= w.t_ms {
            return;
        }
        let last_poll_end = inner
            .snapshot
            .tasks
            .get((w.task as usize).wrapping_sub(1))
            .and_then(|t| t.polls.last().map(|p| p.1).or(Some(t.spawned_ms)))
            .unwrap_or(0.0);
        w.t_ms = due_ms.max(last_poll_end);
        inner.version += 1;
    }

    /// Correct the cause of the wake [`Recorder::wake`] put at `at` (checked by its seq: a
    /// snapshot taken meanwhile leaves nothing to correct).
    pub fn set_wake_cause(&self, (index, seq): (usize, u64), cause: WakeCause) {
        let mut inner = self.lock();
        if let Some(w) = inner.snapshot.wakes.get_mut(index)
            && w.seq == seq
        {
            w.cause = cause;
            inner.version += 1;
        }
    }

    pub fn finish(&self, task: TaskId, outcome: Outcome, detail: String) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let t = self.stamp(inner);
        if let Some(rec) = inner
            .snapshot
            .tasks
            .get_mut((task as usize).wrapping_sub(1))
            && rec.finished_ms.is_none()
        {
            rec.finished_ms = Some(t);
            rec.seqs.push(next_seq(&mut inner.seq));
            rec.outcome = outcome;
            rec.detail = detail;
        }
    }

    pub fn mark(&self, task: Option<TaskId>, label: Cow<'static, str>, line: Option<u32>) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let t = self.stamp(inner);
        inner.snapshot.marks.push(Mark {
            file: None,
            t_ms: t,
            task,
            label,
            line,
            seq: next_seq(&mut inner.seq),
        });
    }

    /// Record a series point. Several points at the same instant keep only the last, so a step
    /// function never has two values at one time.
    pub fn series(&self, name: &str, value: SeriesValue) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let t = self.stamp(inner);
        let TimelineSnapshot {
            series,
            series_seqs,
            ..
        } = &mut inner.snapshot;
        // Look the series up before making an owned key: a new series is rare, a point is not.
        if !series.contains_key(name) {
            series.insert(name.to_owned(), Vec::new());
            series_seqs.insert(name.to_owned(), Vec::new());
        }
        let (Some(points), Some(seqs)) = (series.get_mut(name), series_seqs.get_mut(name)) else {
            return;
        };
        if let Some(last) = points.last_mut()
            && last.0 == t
        {
            if last.1 == value {
                return;
            }
            last.1 = value;
            // Back to the value before this instant: the step never happened.
            let n = points.len();
            if n >= 2 && points[n - 2].1 == points[n - 1].1 {
                points.pop();
                seqs.pop();
            } else if let Some(seq) = seqs.last_mut() {
                *seq = next_seq(&mut inner.seq);
            }
            return;
        }
        if points.last().is_some_and(|p| p.1 == value) {
            return;
        }
        points.push((t, value));
        seqs.push(next_seq(&mut inner.seq));
    }

    pub fn metric(&self, name: &str, value: serde_json::Value) {
        let mut inner = self.lock();
        inner.version += 1;
        inner.snapshot.metrics.insert(name.to_owned(), value);
    }

    pub fn fail_run(&self, why: SetupError) {
        let mut inner = self.lock();
        inner.version += 1;
        inner.run_error.get_or_insert(why);
    }

    pub fn run_error(&self) -> Option<SetupError> {
        self.lock().run_error.clone()
    }

    /// A copy of everything so far.
    pub fn snapshot(&self) -> TimelineSnapshot {
        self.lock().synced().clone()
    }

    /// Everything recorded, moved out: for the end of a run, when nothing records any more and
    /// a copy of 100,000 lanes would cost more than the rest of the bookkeeping. What is
    /// recorded afterwards (blocking work that outlived its runtime) goes nowhere.
    pub fn take_snapshot(&self) -> TimelineSnapshot {
        let mut inner = self.lock();
        inner.version += 1;
        inner.synced();
        let now_ms = inner.snapshot.now_ms;
        std::mem::replace(
            &mut inner.snapshot,
            TimelineSnapshot {
                now_ms,
                ..TimelineSnapshot::default()
            },
        )
    }

    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// Read the recorded data without copying it.
    pub fn with_snapshot<R>(&self, f: impl FnOnce(&TimelineSnapshot) -> R) -> R {
        f(self.lock().synced())
    }
}

/// The next number in the run's order of events (`seq` is `Inner::seq`, borrowed on its own so
/// the snapshot can be borrowed beside it).
#[inline]
fn next_seq(seq: &mut u64) -> u64 {
    let n = *seq;
    *seq += 1;
    n
}

fn ms_between(start: Instant, t: Instant) -> f64 {
    t.saturating_duration_since(start).as_secs_f64() * 1000.0
}
