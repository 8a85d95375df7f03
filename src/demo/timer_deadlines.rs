//! When each recorded task's timers are due, learnt from tokio's own instrumentation.
//!
//! A timer wake is stamped with the moment the timer was *due*, not the moment tokio fired it.
//! The two differ while a task holds the thread (`std::thread::sleep`, [`Ctx::block_thread`],
//! [`Ctx::cpu_work`]): tokio's driver fires the timers that came due meanwhile only when the hold
//! ends, yet those tasks were ready from their deadlines on, waiting for the loop, not for the
//! world. The asyncio tracer stamps a timer wake with its `TimerHandle.when()`; this is the same
//! on tokio.
//!
//! How: built with `--cfg tokio_unstable` and its `tracing` feature, tokio gives every `Sleep` a
//! `runtime.resource` span, and emits a `runtime::resource::state_update` event with
//! `duration` = deadline − now (whole ms, tokio's timer ticks) each time the `Sleep` registers its
//! timer (its first poll) or is reset. `Interval` and `timeout` are built on a `Sleep` (an
//! `Interval` re-registers its timer on the poll after each tick), so they are covered too. A
//! minimal [`Subscriber`], installed only on the run's runtime threads, listens to exactly those
//! two callsites and nothing else (tokio's other spans and events then cost a cached
//! `Interest::never` check), and arms, for the recorded task being polled, the deadline
//! `now_ms + duration` on the recorder's clock. The span's life is the `Sleep`'s: when it closes
//! (the `Sleep` was dropped, fired or not), its deadline goes, so a dropped `timeout` or a `select!`
//! branch that lost is never mistaken for the cause of a later wake. One deadline per `Sleep`:
//! a reset replaces it. These callsites are tokio's (read in 1.54's `time/sleep.rs`); should a
//! new tokio move them, nothing is armed and every driver wake reads as I/O, which the tests
//! below catch.
//!
//! [`TimerDeadlines::due`] is asked when a task is woken from the driver (no recorded task is
//! being polled on the waking thread): a deadline due by then means a timer woke it, due at that
//! deadline; none means the I/O driver did.
//!
//! Precision: tokio counts whole-ms ticks from its driver's start, rounds a deadline up to a tick
//! and "now" down to one, and fires a timer at the first driver turn at or after its tick. On the
//! virtual clock the run starts with the driver and moves in whole ms (an auto-advance moves by
//! whole ticks), so `now_ms + duration` is exactly when tokio fires the timer if no thread is
//! held. On the real clock it reads between 0 and 2 ms after the deadline asked for (the two
//! roundings), so 1 ms is taken off: then it is within 1 ms of the deadline, and always earlier
//! than the timer's firing, so a timer wake always finds it.
//!
//! With `--console`, console-subscriber is the process's global dispatcher; a scoped one here
//! would hide the demo's threads from it, so nothing is installed and timer wakes fall back to
//! their firing time (see [`TimerDeadlines::new`]).
//!
//! [`Ctx::block_thread`]: super::Ctx::block_thread
//! [`Ctx::cpu_work`]: super::Ctx::cpu_work

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{DefaultGuard, Interest, NoSubscriber, Subscriber};
use tracing::{Dispatch, Event, Metadata};

use super::Clock;
use super::ctx::current_task;
use super::recorder::Recorder;
use super::timeline::TaskId;

/// Where tokio's `Sleep` lives: its resource span's target and its events' module.
const SLEEP_MODULE: &str = "tokio::time::sleep";
const STATE_UPDATE: &str = "runtime::resource::state_update";

/// The `Sleep` resource span: `trace_span!(parent: None, "runtime.resource", concrete_type =
/// "Sleep", ...)` in tokio's `time/sleep.rs`. Its target is its module.
fn is_sleep_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.name() == "runtime.resource" && meta.target() == SLEEP_MODULE
}

/// A `Sleep` arming its timer: `trace!(target: "runtime::resource::state_update", duration = ..,
/// duration.unit = "ms", duration.op = "override")`. Other resources (semaphores, locks) send
/// state updates to the same target, on every acquire: the module tells them apart.
fn is_deadline_event(meta: &Metadata<'_>) -> bool {
    meta.is_event()
        && meta.target() == STATE_UPDATE
        && meta.module_path() == Some(SLEEP_MODULE)
        && meta.fields().field("duration").is_some()
}

/// Every run's deadlines, shared by its subscriber (which arms and forgets them) and whoever
/// classifies its wakes (which consumes them). Cheap to clone.
#[derive(Clone)]
pub struct TimerDeadlines {
    shared: Arc<Shared>,
    /// `None` when another subscriber listens (`--console`): then nothing is installed.
    dispatch: Option<Dispatch>,
}

struct Shared {
    /// The run's clock; deadlines are armed from [`TimerDeadlines::start`] on.
    rec: OnceLock<Recorder>,
    /// Taken off `now_ms + duration` (see the module's note on precision).
    rounding_ms: f64,
    armed: Mutex<Armed>,
}

/// The armed deadlines. Lookups are by index, not hash: a 100,000-task run arms 100,000
/// deadlines at once, and hashing them (and the cache misses of a big table) was most of this
/// module's cost (benches/lessons.rs `gather_100k_tasks_virtual`).
#[derive(Default)]
struct Armed {
    /// Each task's armed `Sleep`s (by span id) and their deadlines in ms since the run's start,
    /// task 1 at index 0.
    tasks: Vec<Slots>,
    /// The `Sleep`s armed by another task than the one that made them (a `Sleep` made in one
    /// lane and awaited in another, or made outside any): span id → the task that armed it. The
    /// others are found from their id, which carries the task that made them.
    moved: HashMap<u64, TaskId>,
}

/// One task's armed `Sleep`s: rarely more than one (a `select!` of a sleep and a timeout has
/// two), so one is kept without allocating.
#[derive(Default)]
enum Slots {
    #[default]
    Empty,
    One(u64, f64),
    Many(Vec<(u64, f64)>),
}

impl Slots {
    fn push(&mut self, sleep: u64, at: f64) {
        *self = match std::mem::take(self) {
            Slots::Empty => Slots::One(sleep, at),
            Slots::One(s, a) => Slots::Many(vec![(s, a), (sleep, at)]),
            Slots::Many(mut v) => {
                v.push((sleep, at));
                Slots::Many(v)
            }
        };
    }

    fn remove(&mut self, sleep: u64) {
        match self {
            Slots::One(s, _) if *s == sleep => *self = Slots::Empty,
            Slots::Many(v) => {
                v.retain(|&(s, _)| s != sleep);
                if v.is_empty() {
                    *self = Slots::Empty;
                }
            }
            _ => {}
        }
    }

    /// Remove every deadline at or before `limit`; the earliest of them after `after`.
    fn take_due(&mut self, after: f64, limit: f64) -> Option<f64> {
        match self {
            Slots::Empty => None,
            Slots::One(_, at) => {
                let at = *at;
                if at > limit {
                    return None;
                }
                *self = Slots::Empty;
                (at > after).then_some(at)
            }
            Slots::Many(v) => {
                let mut earliest: Option<f64> = None;
                v.retain(|&(_, at)| {
                    let due = at <= limit;
                    if due && at > after {
                        earliest = Some(earliest.map_or(at, |e| e.min(at)));
                    }
                    !due
                });
                if v.is_empty() {
                    *self = Slots::Empty;
                }
                earliest
            }
        }
    }

    #[cfg(test)]
    fn deadlines(&self) -> Vec<f64> {
        match self {
            Slots::Empty => Vec::new(),
            Slots::One(_, at) => vec![*at],
            Slots::Many(v) => v.iter().map(|&(_, at)| at).collect(),
        }
    }
}

impl Armed {
    fn slots(&mut self, task: TaskId) -> Option<&mut Slots> {
        let i = usize::try_from(task).ok()?.checked_sub(1)?;
        if i >= self.tasks.len() {
            self.tasks.resize_with(i + 1, Slots::default);
        }
        self.tasks.get_mut(i)
    }

    /// Where `sleep`'s deadline is kept, if it is armed.
    fn owner(&self, sleep: u64) -> TaskId {
        if self.moved.is_empty() {
            return maker(sleep);
        }
        self.moved.get(&sleep).copied().unwrap_or(maker(sleep))
    }
}

/// The task that made the `Sleep` of this span id (0: none), see [`span_id`].
fn maker(sleep: u64) -> TaskId {
    (sleep >> 32) as TaskId
}

/// A span id: the task being polled (that makes the `Sleep`) in the high half, a count in the low
/// half. Ids need only be unique among live spans: the count wraps after 4 billion.
fn span_id(task: Option<TaskId>) -> u64 {
    let n = NEXT_SPAN.fetch_add(1, Ordering::Relaxed) % u64::from(u32::MAX) + 1;
    u64::from(task.unwrap_or(0)) << 32 | n
}

static NEXT_SPAN: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The `Sleep` span this thread is in (tokio enters it around arming the timer), with the
    /// run it belongs to (its `Shared`'s address), so a deadline is only armed in its own run.
    static ENTERED: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
    /// The deadlines installed on this thread, for [`due_here`].
    static HERE: RefCell<Option<TimerDeadlines>> = const { RefCell::new(None) };
    /// A runtime worker's install, from its start to its stop.
    static WORKER: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

impl TimerDeadlines {
    /// Deadlines for a run on `clock`. Call it on the thread that will run the runtime, before
    /// building it. When another subscriber is this thread's default (the global one
    /// `--console` sets), it must keep seeing the demo's threads: then nothing will be
    /// installed, nothing is armed, and [`TimerDeadlines::due`] always says `None`, so a timer
    /// wake falls back to its firing time.
    pub fn new(clock: Clock) -> TimerDeadlines {
        let shared = Arc::new(Shared {
            rec: OnceLock::new(),
            rounding_ms: match clock {
                Clock::Virtual => 0.0,
                Clock::Real => 1.0,
            },
            armed: Mutex::default(),
        });
        let dispatch = (!another_subscriber()).then(|| {
            Dispatch::new(DeadlineSubscriber {
                shared: Arc::clone(&shared),
            })
        });
        TimerDeadlines { shared, dispatch }
    }

    /// From now on, deadlines are armed on `rec`'s clock (the run's). The recorder is made inside
    /// the runtime, after its worker threads have started, hence this second step.
    pub fn start(&self, rec: &Recorder) {
        let _ = self.shared.rec.set(rec.clone());
    }

    /// Listen on this thread (the one that runs the runtime's `block_on`, for a current_thread
    /// runtime the one that polls every task) until the guard is dropped, on this same thread.
    /// `None` when another subscriber listens (see [`TimerDeadlines::new`]).
    pub fn install(&self) -> Option<Installed> {
        let dispatch = self.dispatch.as_ref()?;
        let guard = tracing::dispatcher::set_default(dispatch);
        let previous = HERE.with(|h| h.replace(Some(self.clone())));
        Some(Installed {
            _guard: guard,
            previous,
        })
    }

    /// Listen on every thread `builder`'s runtime starts (multi_thread workers, the blocking
    /// pool), from its start to its stop.
    pub fn watch_threads(&self, builder: &mut tokio::runtime::Builder) {
        if self.dispatch.is_none() {
            return;
        }
        let this = self.clone();
        builder
            .on_thread_start(move || {
                let installed = this.install();
                WORKER.with(|w| *w.borrow_mut() = installed);
            })
            .on_thread_stop(|| {
                let installed = WORKER.with(|w| w.borrow_mut().take());
                drop(installed);
            });
    }

    /// `task` was just woken from the driver at `now_ms` (ms since the run's start): was it a
    /// timer, and when was it due? The earliest of the task's deadlines that is due by `now_ms`,
    /// never later than `now_ms`; `None` when none is (the I/O driver woke it). Every deadline due
    /// by then is consumed: the driver fires all of them in the turn that fires one, and a wake
    /// of a task that is already scheduled changes nothing. Ask it on every wake from the driver,
    /// even one that is not recorded because the task is already scheduled: that consumes the
    /// deadline of a timer that fired then, whose `Sleep` may live on, done, in a loop.
    ///
    /// A deadline at or before `after` (the end of the task's last poll) is not the answer: the
    /// task was polled since, so it was not waiting for that timer then. It is a stale one (an
    /// `Interval` moves its `Sleep` on without telling, until its next poll), or its timer came
    /// due during that poll and the task was ready only from the poll's end.
    pub fn due(&self, task: TaskId, after: f64, now_ms: f64) -> Option<f64> {
        // Only float rounding between the two sums to allow for.
        let at = self.lock().slots(task)?.take_due(after, now_ms + 1e-6)?;
        Some(at.min(now_ms))
    }

    /// The task's armed deadlines, earliest first.
    #[cfg(test)]
    pub(crate) fn armed(&self, task: TaskId) -> Vec<f64> {
        let mut at = self
            .lock()
            .slots(task)
            .map(|s| s.deadlines())
            .unwrap_or_default();
        at.sort_by(f64::total_cmp);
        at
    }

    fn lock(&self) -> MutexGuard<'_, Armed> {
        // Every update below leaves the maps consistent before anything that could panic.
        self.shared.armed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Shared {
    fn owner(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    fn arm(&self, sleep: u64, task: TaskId, at: f64) {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        // A reset: the new deadline replaces the old one, whichever task armed it.
        let old = armed.owner(sleep);
        if let Some(slots) = armed.slots(old) {
            slots.remove(sleep);
        }
        if task != maker(sleep) {
            armed.moved.insert(sleep, task);
        } else if old != task {
            armed.moved.remove(&sleep);
        }
        if let Some(slots) = armed.slots(task) {
            slots.push(sleep, at);
        }
    }

    fn forget(&self, sleep: u64) {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let owner = armed.owner(sleep);
        if owner != maker(sleep) {
            armed.moved.remove(&sleep);
        }
        if let Some(slots) = armed.slots(owner) {
            slots.remove(sleep);
        }
    }
}

/// The deadline due for `task`, by the deadlines installed on this thread: what a waker asks when
/// it is called from the driver of the run's runtime (every thread that turns the driver has them
/// installed). `None` when nothing is installed here (`--console`, or not a runtime thread of a
/// run) or no deadline is due. See [`TimerDeadlines::due`].
pub fn due_here(task: TaskId, after: f64, now_ms: f64) -> Option<f64> {
    HERE.with(|h| h.borrow().as_ref().and_then(|d| d.due(task, after, now_ms)))
}

/// Whether a subscriber other than ours (console-subscriber's, or anyone's) is this thread's
/// default: one that would see tokio's spans. `tracing::dispatcher::has_been_set` cannot tell,
/// since it turns true for good at the first scoped default, ours included.
pub fn another_subscriber() -> bool {
    tracing::dispatcher::get_default(|d| !d.is::<NoSubscriber>() && !d.is::<DeadlineSubscriber>())
}

/// The run's deadlines listen on this thread until this is dropped (on this thread).
pub struct Installed {
    _guard: DefaultGuard,
    previous: Option<TimerDeadlines>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        HERE.with(|h| *h.borrow_mut() = previous);
    }
}

struct DeadlineSubscriber {
    shared: Arc<Shared>,
}

/// Reads `duration` (ms from now to the deadline) from a deadline event.
struct DurationMs(Option<u64>);

impl Visit for DurationMs {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "duration" {
            self.0 = Some(value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "duration" {
            self.0 = u64::try_from(value).ok();
        }
    }
    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl Subscriber for DeadlineSubscriber {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_sleep_span(meta) || is_deadline_event(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        is_sleep_span(meta) || is_deadline_event(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // tokio's instrumentation is at TRACE.
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(span_id(current_task()))
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let Some(task) = current_task() else { return };
        let (owner, sleep) = ENTERED.with(Cell::get);
        if owner != self.shared.owner() || sleep == 0 {
            // A `Sleep` made where nothing listened (its span is disabled): without its span its
            // drop cannot be seen, and a deadline that outlives its `Sleep` would be mistaken for
            // the cause of a later wake. Better no deadline (the wake then reads as I/O).
            return;
        }
        let Some(rec) = self.shared.rec.get() else {
            return;
        };
        let mut duration = DurationMs(None);
        event.record(&mut duration);
        let Some(ms) = duration.0 else { return };
        let at = rec.now_ms() + ms as f64 - self.shared.rounding_ms;
        self.shared.arm(sleep, task, at.max(0.0));
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|e| e.set((self.shared.owner(), span.into_u64())));
    }

    fn exit(&self, span: &Id) {
        let owner = self.shared.owner();
        ENTERED.with(|e| {
            if e.get() == (owner, span.into_u64()) {
                e.set((0, 0));
            }
        });
    }

    /// tokio never clones a `Sleep`'s span (a `Sleep` is not `Clone`), so its one close is its
    /// `Sleep`'s drop.
    fn try_close(&self, span: Id) -> bool {
        self.shared.forget(span.into_u64());
        true
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Wake, Waker};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::demo::{Ctx, Ended};

    /// Every wake from the driver of a spied task: (task, when, what `due_here` said on the
    /// waking thread). What the recorder's waker will do, reduced to what these tests need.
    type WakeLog = Arc<Mutex<Vec<(TaskId, f64, Option<f64>)>>>;

    struct Run {
        rt: tokio::runtime::Runtime,
        ctx: Ctx,
        deadlines: TimerDeadlines,
        log: WakeLog,
        _installed: Option<Installed>,
    }

    /// A paused current_thread runtime with deadlines installed, as the runner makes one.
    fn virtual_run() -> Run {
        let deadlines = TimerDeadlines::new(Clock::Virtual);
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_all().start_paused(true);
        deadlines.watch_threads(&mut builder);
        let rt = builder.build().expect("runtime");
        let rec = rt.block_on(async { Recorder::on(Clock::Virtual) });
        deadlines.start(&rec);
        let installed = deadlines.install();
        assert!(installed.is_some(), "no other subscriber in these tests");
        Run {
            rt,
            ctx: Ctx::new(rec, Clock::Virtual, "deadlines"),
            deadlines,
            log: WakeLog::default(),
            _installed: installed,
        }
    }

    impl Run {
        fn id(&self, name: &str) -> TaskId {
            crate::demo::testing::task(&self.ctx.recorder().snapshot(), name).id
        }

        /// The spied task's driver wakes: (when, due).
        fn wakes(&self, name: &str) -> Vec<(f64, Option<f64>)> {
            let id = self.id(name);
            let log = self.log.lock().expect("log");
            log.iter()
                .filter(|w| w.0 == id)
                .map(|w| (w.1, w.2))
                .collect()
        }

        /// Two connected sockets, registered with the run's I/O driver.
        fn socket_pair(&self) -> (tokio::net::UnixStream, tokio::net::UnixStream) {
            let _in = self.rt.enter();
            tokio::net::UnixStream::pair().expect("socket pair")
        }

        /// `fut` as a task whose waker asks `due` when it is called from the driver.
        fn spy<F>(&self, fut: F) -> Spied<F> {
            spied(fut, self.ctx.recorder(), &self.log)
        }
    }

    fn spied<F>(fut: F, rec: &Recorder, log: &WakeLog) -> Spied<F> {
        Spied {
            fut: Box::pin(fut),
            rec: rec.clone(),
            log: Arc::clone(log),
        }
    }

    struct Spied<F> {
        fut: Pin<Box<F>>,
        rec: Recorder,
        log: WakeLog,
    }

    impl<F: Future> Future for Spied<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let task = current_task().expect("spied inside an instrumented task");
            let waker = Waker::from(Arc::new(SpyWaker {
                inner: cx.waker().clone(),
                task,
                rec: self.rec.clone(),
                log: Arc::clone(&self.log),
            }));
            self.fut.as_mut().poll(&mut Context::from_waker(&waker))
        }
    }

    struct SpyWaker {
        inner: Waker,
        task: TaskId,
        rec: Recorder,
        log: WakeLog,
    }

    impl Wake for SpyWaker {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            if current_task().is_none() {
                let now = self.rec.now_ms();
                let due = due_here(self.task, self.rec.last_poll_end(self.task), now);
                self.log.lock().expect("log").push((self.task, now, due));
            }
            self.inner.wake_by_ref();
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_sleep_arms_its_deadline_and_its_timer_wake_is_due_then() {
        let run = virtual_run();
        let ctx = run.ctx.clone();
        let sleeper = run.spy(async {
            tokio::time::sleep(ms(200)).await;
            Ended::ok("")
        });
        let armed = run.rt.block_on(async {
            let h = ctx.spawn("sleeper", sleeper);
            tokio::time::sleep(ms(50)).await;
            let armed = run.deadlines.armed(run.id("sleeper"));
            h.await.expect("join");
            armed
        });
        assert_eq!(armed, vec![200.0]);
        assert_eq!(run.wakes("sleeper"), vec![(200.0, Some(200.0))]);
        assert_eq!(run.deadlines.armed(run.id("sleeper")), Vec::<f64>::new());
    }

    #[test]
    fn an_interval_arms_each_tick_in_turn() {
        let run = virtual_run();
        let ctx = run.ctx.clone();
        let ticker = run.spy(async {
            let mut every = tokio::time::interval(ms(100));
            for _ in 0..4 {
                every.tick().await;
            }
            Ended::ok("")
        });
        let seen = run.rt.block_on(async {
            let h = ctx.spawn("ticker", ticker);
            let mut seen = Vec::new();
            tokio::time::sleep(ms(50)).await;
            for _ in 0..3 {
                seen.push(run.deadlines.armed(run.id("ticker")));
                tokio::time::sleep(ms(100)).await;
            }
            h.await.expect("join");
            seen
        });
        assert_eq!(seen, vec![vec![100.0], vec![200.0], vec![300.0]]);
        assert_eq!(
            run.wakes("ticker"),
            vec![
                (100.0, Some(100.0)),
                (200.0, Some(200.0)),
                (300.0, Some(300.0))
            ]
        );
    }

    /// The scheduler's fixed rate: an `Interval`'s first tick is due at once, and tokio moves its
    /// `Sleep` on to the next tick without a word until the next `tick()`; the 30 ms job's sleep
    /// in between is what wakes the task, due at 30, not the interval's stale 0.
    #[test]
    fn an_interval_moved_on_unsaid_is_not_taken_for_the_sleep_after_its_tick() {
        let run = virtual_run();
        let ctx = run.ctx.clone();
        let job = run.spy(async {
            let mut every = tokio::time::interval(ms(100));
            for _ in 0..2 {
                every.tick().await;
                tokio::time::sleep(ms(30)).await;
            }
            Ended::ok("")
        });
        run.rt.block_on(async {
            ctx.spawn("job", job).await.expect("join");
        });
        assert_eq!(
            run.wakes("job"),
            vec![
                (30.0, Some(30.0)),
                (100.0, Some(100.0)),
                (130.0, Some(130.0))
            ]
        );
    }

    /// The case this module exists for: the ticker's 200 ms timer comes due while another task
    /// holds the thread from 100 to 600 ms; tokio fires it at 600, and it was due at 200.
    #[test]
    fn a_timer_that_came_due_while_the_thread_was_held_is_due_at_its_deadline() {
        let run = virtual_run();
        let ctx = run.ctx.clone();
        let ticker = run.spy(async {
            let mut every = tokio::time::interval(ms(100));
            for _ in 0..4 {
                every.tick().await;
            }
            Ended::ok("")
        });
        let holder = {
            let ctx = ctx.clone();
            async move {
                tokio::time::sleep(ms(100)).await;
                // Let the ticker, woken by the same driver turn, take its 100 ms tick first.
                tokio::task::yield_now().await;
                ctx.block_thread(ms(500));
                Ended::ok("")
            }
        };
        run.rt.block_on(async {
            let t = ctx.spawn("ticker", ticker);
            let h = ctx.spawn("holder", holder);
            h.await.expect("join");
            t.await.expect("join");
        });
        let holder = crate::demo::testing::task(&run.ctx.recorder().snapshot(), "holder").clone();
        assert_eq!(holder.polls.last().copied(), Some((100.0, 600.0)));
        assert_eq!(
            run.wakes("ticker"),
            vec![(100.0, Some(100.0)), (600.0, Some(200.0))]
        );
    }

    /// A `timeout` whose future wins drops its `Sleep`: its deadline goes with it, and a later
    /// I/O wake, past that deadline, is not taken for the timer.
    #[test]
    fn a_dropped_sleep_is_never_due() {
        let run = virtual_run();
        let ctx = run.ctx.clone();
        let (mut theirs, mut mine) = run.socket_pair();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let deadlines = run.deadlines.clone();
        let waiter = run.spy(async move {
            let me = current_task().expect("a task");
            let won = tokio::time::timeout(ms(500), rx).await;
            assert!(won.is_ok(), "the message comes first");
            let after_drop = deadlines.armed(me);
            let mut buf = [0u8; 1];
            mine.read_exact(&mut buf).await.expect("read");
            Ended::ok(format!("{after_drop:?}"))
        });
        let sender = async move {
            tokio::time::sleep(ms(100)).await;
            let _ = tx.send(());
            tokio::time::sleep(ms(900)).await;
            theirs.write_all(b"x").await.expect("write");
            Ended::ok("")
        };
        let ended = run.rt.block_on(async {
            let w = ctx.spawn("waiter", waiter);
            ctx.spawn("sender", sender).await.expect("join");
            w.await.expect("join")
        });
        assert_eq!(
            ended.detail, "[]",
            "nothing armed once the timeout is dropped"
        );
        // The oneshot's send is a task's wake, not the driver's: the one driver wake is the read.
        assert_eq!(run.wakes("waiter"), vec![(1000.0, None)]);
    }

    /// `select!` of a socket read and a sleep: the socket wins, so the wake is I/O, and the
    /// losing sleep's deadline (1 s) is not taken for the cause of the next I/O wake (2 s).
    #[test]
    fn a_socket_that_beats_a_sleep_in_a_select_is_an_io_wake() {
        let run = virtual_run();
        let ctx = run.ctx.clone();
        let (mut theirs, mut mine) = run.socket_pair();
        let reader = run.spy(async move {
            let mut buf = [0u8; 1];
            let first = tokio::select! {
                r = mine.read_exact(&mut buf) => { r.expect("read"); "read" }
                () = tokio::time::sleep(ms(1000)) => "slept",
            };
            mine.read_exact(&mut buf).await.expect("read");
            Ended::ok(first)
        });
        let writer = async move {
            tokio::time::sleep(ms(100)).await;
            theirs.write_all(b"x").await.expect("write");
            tokio::time::sleep(ms(1900)).await;
            theirs.write_all(b"y").await.expect("write");
            Ended::ok("")
        };
        // A paused clock jumps to the next timer as soon as no task is ready, before it looks
        // at the sockets again: a timer just after each write keeps those jumps short.
        let pacer = async {
            tokio::time::sleep(ms(150)).await;
            tokio::time::sleep(ms(1900)).await;
            Ended::ok("")
        };
        let ended = run.rt.block_on(async {
            let r = ctx.spawn("reader", reader);
            let p = ctx.spawn("pacer", pacer);
            ctx.spawn("writer", writer).await.expect("join");
            p.await.expect("join");
            r.await.expect("join")
        });
        assert_eq!(ended.detail, "read");
        assert_eq!(run.wakes("reader"), vec![(100.0, None), (2000.0, None)]);
        assert_eq!(run.deadlines.armed(run.id("reader")), Vec::<f64>::new());
    }

    /// A multi_thread runtime's tasks run, and its driver turns, on its workers: each has the
    /// run's deadlines from its start. On the real clock a deadline reads within 1 ms.
    #[test]
    fn the_workers_of_a_multi_thread_runtime_listen_too() {
        // Long enough that the sleeper is still asleep when its deadline is looked at.
        const SLEEP: u64 = 500;
        let deadlines = TimerDeadlines::new(Clock::Real);
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2).enable_all();
        deadlines.watch_threads(&mut builder);
        let rt = builder.build().expect("runtime");
        let rec = rt.block_on(async { Recorder::on(Clock::Real) });
        deadlines.start(&rec);
        // As the runner does: this thread (it runs `block_on`) listens too.
        let _here = deadlines.install();
        let ctx = Ctx::new(rec.clone(), Clock::Real, "deadlines");
        let log = WakeLog::default();
        let sleeper = spied(
            async {
                let ran_on = current_task().map(|_| std::thread::current().id());
                tokio::time::sleep(ms(SLEEP)).await;
                Ended::ok(format!("{ran_on:?}"))
            },
            &rec,
            &log,
        );
        let (armed, ended) = rt.block_on(async {
            let h = ctx.spawn("sleeper", sleeper);
            // Until its first poll has armed the deadline (not a fixed wait: a loaded machine
            // may poll it late), long before the sleep ends.
            let id = crate::demo::testing::task(&rec.snapshot(), "sleeper").id;
            for _ in 0..2000 {
                if !rec.snapshot().tasks[0].polls.is_empty() {
                    break;
                }
                tokio::time::sleep(ms(1)).await;
            }
            let armed = deadlines.armed(id);
            (armed, h.await.expect("join"))
        });
        assert_ne!(
            ended.detail,
            format!("{:?}", Some(std::thread::current().id()))
        );
        assert_eq!(armed.len(), 1, "{armed:?}");
        // Armed during the sleeper's first poll.
        let (start, end) = rec.snapshot().tasks[0].polls[0];
        assert!(
            (start + SLEEP as f64 - 1.0..end + SLEEP as f64 + 1.0).contains(&armed[0]),
            "armed {armed:?}, first poll {start}..{end}"
        );
        let wakes = log.lock().expect("log").clone();
        assert_eq!(wakes.len(), 1, "{wakes:?}");
        let (_, woken, due) = wakes[0];
        assert_eq!(due, Some(armed[0].min(woken)));
    }

    /// `--console` makes console-subscriber the global dispatcher. A scoped dispatcher on the
    /// demo's threads would hide them from it: nothing is installed, nothing armed.
    #[test]
    fn nothing_is_installed_over_another_subscriber() {
        struct Other;
        impl Subscriber for Other {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                false
            }
            fn new_span(&self, _: &Attributes<'_>) -> Id {
                Id::from_u64(1)
            }
            fn record(&self, _: &Id, _: &Record<'_>) {}
            fn record_follows_from(&self, _: &Id, _: &Id) {}
            fn event(&self, _: &Event<'_>) {}
            fn enter(&self, _: &Id) {}
            fn exit(&self, _: &Id) {}
        }
        // Ours installed and gone again: `has_been_set` is now true for good, yet nobody else
        // listens (tokio-console task names are only made for a real listener).
        drop(TimerDeadlines::new(Clock::Virtual).install());
        assert!(tracing::dispatcher::has_been_set());
        assert!(!another_subscriber());

        let _other = tracing::subscriber::set_default(Other);
        assert!(another_subscriber());
        let deadlines = TimerDeadlines::new(Clock::Virtual);
        assert!(deadlines.install().is_none());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let rec = rt.block_on(async { Recorder::on(Clock::Virtual) });
        deadlines.start(&rec);
        let ctx = Ctx::new(rec, Clock::Virtual, "deadlines");
        let armed = rt.block_on(async {
            let h = ctx.spawn("sleeper", async {
                tokio::time::sleep(ms(200)).await;
                Ended::ok("")
            });
            tokio::time::sleep(ms(50)).await;
            let armed = deadlines.armed(1);
            h.await.expect("join");
            armed
        });
        assert_eq!(armed, Vec::<f64>::new());
        assert_eq!(due_here(1, 0.0, 300.0), None);
    }

    /// A `Sleep` made in one lane and awaited in another is armed for the one that awaits it
    /// (its waker is the one the timer wakes), and forgotten when it is dropped there.
    #[test]
    fn a_sleep_made_in_one_task_and_awaited_in_another_is_the_awaiters() {
        let run = virtual_run();
        let ctx = run.ctx.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let awaiter = run.spy(async move {
            let sleep: Pin<Box<tokio::time::Sleep>> = rx.await.expect("a sleep");
            sleep.await;
            Ended::ok("")
        });
        let armed = run.rt.block_on(async {
            let a = ctx.spawn("awaiter", awaiter);
            ctx.spawn("maker", async move {
                let _ = tx.send(Box::pin(tokio::time::sleep(ms(300))));
                Ended::ok("")
            })
            .await
            .expect("join");
            tokio::time::sleep(ms(50)).await;
            let armed = (
                run.deadlines.armed(run.id("awaiter")),
                run.deadlines.armed(run.id("maker")),
            );
            a.await.expect("join");
            armed
        });
        assert_eq!(armed, (vec![300.0], vec![]));
        assert_eq!(run.wakes("awaiter"), vec![(300.0, Some(300.0))]);
        assert!(
            run.deadlines.lock().moved.is_empty(),
            "forgotten with its Sleep"
        );
    }
}
