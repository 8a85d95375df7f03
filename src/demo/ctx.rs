//! What a demo uses to run its tasks where the recorder can see them.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::FutureExt;
use tokio::task::{AbortHandle, JoinHandle};

use super::Clock;
use super::recorder::Recorder;
use super::timeline::{Outcome, SeriesValue, TaskId, WakeCause};

/// How a task ended, as the task itself reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub outcome: Outcome,
    pub detail: String,
}

impl Ended {
    pub fn ok(detail: impl Into<String>) -> Ended {
        Ended::with(Outcome::Ok, detail)
    }
    pub fn error(detail: impl Into<String>) -> Ended {
        Ended::with(Outcome::Error, detail)
    }
    pub fn timeout(detail: impl Into<String>) -> Ended {
        Ended::with(Outcome::Timeout, detail)
    }
    pub fn rejected(detail: impl Into<String>) -> Ended {
        Ended::with(Outcome::Rejected, detail)
    }
    pub fn cancelled(detail: impl Into<String>) -> Ended {
        Ended::with(Outcome::Cancelled, detail)
    }
    pub fn with(outcome: Outcome, detail: impl Into<String>) -> Ended {
        Ended {
            outcome,
            detail: detail.into(),
        }
    }
    pub fn is_ok(&self) -> bool {
        self.outcome == Outcome::Ok
    }
}

/// The environment kept a run from doing its job (a port that cannot be bound, a temp dir that
/// cannot be made, a file that cannot be read back): what could not be done, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {why}")]
pub struct SetupError {
    pub what: Cow<'static, str>,
    pub why: String,
}

impl SetupError {
    /// `SetupError::new("cannot create a temporary directory", err)`.
    pub fn new(what: impl Into<Cow<'static, str>>, why: impl fmt::Display) -> SetupError {
        SetupError {
            what: what.into(),
            why: why.to_string(),
        }
    }
}

thread_local! {
    /// The instrumented task being polled on this thread: the parent of anything it spawns and
    /// the owner of the marks it makes.
    static CURRENT: Cell<Option<TaskId>> = const { Cell::new(None) };
}

/// The instrumented task being polled on this thread, if any.
pub(crate) fn current_task() -> Option<TaskId> {
    CURRENT.with(Cell::get)
}

/// The demo's handle on its run: spawn and instrument tasks, make marks, record series.
#[derive(Clone)]
pub struct Ctx {
    rec: Recorder,
    clock: Clock,
    /// Every task spawned through the engine, so a cancelled run can end them all.
    spawned: Arc<Mutex<Vec<AbortHandle>>>,
    demo_id: &'static str,
    /// The file lessons show (`DemoSpec::source_file`): marks made from it carry their line.
    source_file: &'static str,
    os_signals: bool,
    /// The blocking pool's work on the virtual clock (see [`PoolClock`]).
    pool: Arc<PoolClock>,
}

impl Ctx {
    /// A context whose marks carry no line; see [`Ctx::showing`].
    pub fn new(rec: Recorder, clock: Clock, demo_id: &'static str) -> Ctx {
        Ctx {
            rec,
            clock,
            spawned: Arc::default(),
            demo_id,
            source_file: "",
            os_signals: false,
            pool: Arc::default(),
        }
    }

    /// The runtime's blocking pool runs at most `threads` jobs at once (tokio's
    /// `max_blocking_threads`): on the virtual clock, `block_thread` in its jobs then waits for
    /// the clock (see [`PoolClock`]). `None` for tokio's default pool, whose jobs the paused
    /// clock does not time: it stands still while they run.
    pub fn with_blocking_threads(mut self, threads: Option<usize>) -> Ctx {
        self.pool = Arc::new(PoolClock {
            threads,
            ..PoolClock::default()
        });
        self
    }

    /// Marks made from `source_file` (the file lessons show) carry their line in it.
    pub fn showing(mut self, source_file: &'static str) -> Ctx {
        self.source_file = source_file;
        self
    }

    /// Allow the demo to listen for SIGINT/SIGTERM (headless runs only).
    pub fn with_os_signals(mut self, allowed: bool) -> Ctx {
        self.os_signals = allowed;
        self
    }

    pub fn os_signals(&self) -> bool {
        self.os_signals
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub fn recorder(&self) -> &Recorder {
        &self.rec
    }

    pub fn now_ms(&self) -> f64 {
        self.rec.now_ms()
    }

    /// Wrap a future so its polls are recorded as a task lane, without spawning it: for futures
    /// a demo awaits in place (join_all, select!, a future that is never awaited).
    /// `#[track_caller]` so the lane remembers its line in the shown file, as a mark does.
    #[track_caller]
    pub fn instrument<F>(&self, name: impl Into<String>, fut: F) -> Instrumented<F>
    where
        F: Future<Output = Ended>,
    {
        self.lane(name.into(), fut, Location::caller(), false)
    }

    /// A new lane for `fut`. A spawned one is scheduled from the start: its spawn wake is
    /// recorded right after its spawn, before tokio can poll it on another worker, so the wake
    /// always comes before the first poll in the run's order. One polled in place needs no wake
    /// for its first poll (its parent is polling it).
    fn lane<F>(&self, name: String, fut: F, caller: &Location<'_>, spawned: bool) -> Instrumented<F>
    where
        F: Future<Output = Ended>,
    {
        let parent = CURRENT.with(Cell::get);
        let line = self.shown_line(caller);
        let (id, first) = if spawned {
            (self.rec.new_spawned_task_at(name, parent, line), SCHEDULED)
        } else {
            (self.rec.new_task_at(name, parent, line), IDLE)
        };
        let wake = Arc::new(WakeState {
            state: AtomicU8::new(first),
            id,
            rec: self.rec.clone(),
            inner: Mutex::new(None),
        });
        Instrumented {
            fut,
            id,
            polled: false,
            done: false,
            waker: Waker::from(Arc::clone(&wake)),
            wake,
            inner: None,
            spawned,
        }
    }

    /// Spawn a named task on the run's runtime. `#[track_caller]` so tokio-console shows the
    /// demo's line as the spawn location, not this helper's.
    #[track_caller]
    pub fn spawn<F>(&self, name: impl Into<String>, fut: F) -> JoinHandle<Ended>
    where
        F: Future<Output = Ended> + Send + 'static,
    {
        let name = name.into();
        let task_name = self.console_name(&name);
        let fut = self.lane(name, fut, Location::caller(), true);
        let handle = spawn_named(task_name.as_deref(), fut);
        if let Ok(mut spawned) = self.spawned.lock() {
            spawned.push(handle.abort_handle());
        }
        handle
    }

    /// Spawn a named task into a `JoinSet`, so `join_next` can collect it as it finishes.
    #[track_caller]
    pub fn spawn_in<F>(
        &self,
        set: &mut tokio::task::JoinSet<Ended>,
        name: impl Into<String>,
        fut: F,
    ) -> AbortHandle
    where
        F: Future<Output = Ended> + Send + 'static,
    {
        let name = name.into();
        let task_name = self.console_name(&name);
        let fut = self.lane(name, fut, Location::caller(), true);
        let handle = spawn_in_set(set, task_name.as_deref(), fut);
        if let Ok(mut spawned) = self.spawned.lock() {
            spawned.push(handle.clone());
        }
        handle
    }

    /// The name tokio-console shows for a spawned task (`gather/request 3`), made only when a
    /// tracing subscriber could see it: a 100,000-task run should not format 100,000 names
    /// nobody reads.
    fn console_name(&self, name: &str) -> Option<String> {
        #[cfg(feature = "console")]
        let listening = super::timer_deadlines::another_subscriber();
        #[cfg(not(feature = "console"))]
        let listening = false;
        listening.then(|| format!("{}/{}", self.demo_id, name))
    }

    /// A counter recorded as a series (`in_flight`), which also remembers its maximum.
    pub fn gauge(&self, series: &'static str) -> Gauge {
        self.series(series, 0usize);
        Gauge {
            ctx: self.clone(),
            series,
            now: Arc::default(),
            max: Arc::default(),
        }
    }

    /// Run blocking work on tokio's blocking pool, recorded as a lane of its own. It is woken
    /// (cause `spawn`) when it is queued, like a spawned task: its one "poll" is the work, which
    /// starts once a pool thread takes it. Wakes it causes are `thread` (it is not a task polled
    /// on a runtime thread: what it wakes is woken by another thread).
    #[track_caller]
    pub fn spawn_blocking<F>(&self, name: impl Into<String>, work: F) -> JoinHandle<Ended>
    where
        F: FnOnce() -> Ended + Send + 'static,
    {
        let parent = CURRENT.with(Cell::get);
        let line = self.shown_line(Location::caller());
        let id = self.rec.new_spawned_task_at(name.into(), parent, line);
        let rec = self.rec.clone();
        let job = tokio::task::spawn_blocking(move || {
            let start = rec.poll_start();
            IN_POOL.with(|p| p.set(true));
            let ended = std::panic::catch_unwind(AssertUnwindSafe(work))
                .unwrap_or_else(|p| Ended::with(Outcome::Panicked, panic_message(&*p)));
            IN_POOL.with(|p| p.set(false));
            rec.poll(id, start);
            rec.finish(id, ended.outcome, ended.detail.clone());
            ended
        });
        if self.clock == Clock::Real || self.pool.threads.is_none() {
            // tokio's own rule: its paused clock stands still while the job is alive.
            return job;
        }
        // A pool sized for the run, on the virtual clock (see PoolClock): the job counts as
        // the pool's until its result is back on the runtime's thread, so the clock cannot move
        // between the job's end and its awaiter's wake, which comes from the pool's thread at a
        // moment of its own. The awaiter is woken by this hand-back, a task with no lane.
        self.pool.queued(self);
        let pool = Arc::clone(&self.pool);
        let handed_back = tokio::spawn(async move {
            let ended = job.await;
            pool.finished();
            ended.unwrap_or_else(|e| Ended::with(Outcome::Panicked, e.to_string()))
        });
        if let Ok(mut spawned) = self.spawned.lock() {
            spawned.push(handed_back.abort_handle());
        }
        handed_back
    }

    /// Hold the current thread for `d`, as `std::thread::sleep` or a blocking call would. On the
    /// virtual clock the paused clock is moved forward while the thread stays held: nothing else
    /// on this runtime runs meanwhile, exactly as with a real blocking call. In a job of a
    /// blocking pool sized for the run ([`Ctx::with_blocking_threads`]) only its thread is held,
    /// until the virtual clock reads `d` later, while the runtime runs on (see [`PoolClock`]).
    pub fn block_thread(&self, d: Duration) {
        match self.clock {
            Clock::Virtual if self.pool.threads.is_some() && IN_POOL.with(Cell::get) => {
                self.pool.hold(d);
            }
            Clock::Virtual => advance_now(d),
            Clock::Real => std::thread::sleep(d),
        }
    }

    /// Do `d` of CPU work on this thread (a busy loop on the real clock).
    pub fn cpu_work(&self, d: Duration) {
        match self.clock {
            Clock::Virtual => advance_now(d),
            Clock::Real => {
                let until = std::time::Instant::now() + d;
                while std::time::Instant::now() < until {
                    std::hint::spin_loop();
                }
            }
        }
    }

    /// A labelled instant owned by the task being polled. Made from the file lessons show, it
    /// carries the caller's line there, so the code pane can point at it; made from anywhere else
    /// (a demo's setup, the services), it carries none.
    #[track_caller]
    pub fn mark(&self, label: impl Into<Cow<'static, str>>) {
        let task = CURRENT.with(Cell::get);
        let shown = self.shown_line(Location::caller());
        self.rec.mark(task, label.into(), shown);
    }

    /// The caller's line when the call is in the file lessons show; `None` anywhere else.
    fn shown_line(&self, caller: &Location<'_>) -> Option<u32> {
        // Both paths are as rustc was given them, relative to the crate: plain text equality.
        (!self.source_file.is_empty() && caller.file() == self.source_file).then(|| caller.line())
    }

    /// The one way a demo reports that the environment kept the run from doing its job: record a
    /// lane that ends with the reason, and mark the whole run as failed with it, so `run` exits 1
    /// and the app shows why.
    pub async fn setup_failed(&self, lane: &str, error: SetupError) {
        let why = error.to_string();
        self.rec.fail_run(error);
        self.instrument(lane.to_owned(), async move { Ended::error(why) })
            .await;
    }

    /// Setup work that is a lane of its own (opening a database, say): `work` gives the value
    /// and the lane's detail. A failure ends that lane with the reason and fails the run with it,
    /// as [`Ctx::setup_failed`] does, and gives `None`.
    pub async fn setup_lane<T, F>(&self, lane: &str, work: F) -> Option<T>
    where
        F: Future<Output = Result<(T, String), SetupError>>,
    {
        let mut value = None;
        let step = async {
            match work.await {
                Ok((v, detail)) => {
                    value = Some(v);
                    Ended::ok(detail)
                }
                Err(error) => {
                    let why = error.to_string();
                    self.rec.fail_run(error);
                    Ended::error(why)
                }
            }
        };
        self.instrument(lane.to_owned(), step).await;
        value
    }

    pub fn series(&self, name: &str, value: impl Into<SeriesValue>) {
        self.rec.series(name, value.into());
    }

    pub fn metric(&self, name: &str, value: impl Into<serde_json::Value>) {
        self.rec.metric(name, value.into());
    }

    /// Abort every task spawned through this context (a cancelled run), and let go of the
    /// blocking pool's threads held on the virtual clock, which nothing would wake any more.
    pub fn abort_all(&self) {
        if let Ok(spawned) = self.spawned.lock() {
            for h in spawned.iter() {
                h.abort();
            }
        }
        self.pool.release_all();
    }
}

thread_local! {
    /// This thread is running a job of [`Ctx::spawn_blocking`]: `block_thread` holds only it.
    static IN_POOL: Cell<bool> = const { Cell::new(false) };
}

/// The blocking pool's time on the virtual clock.
///
/// tokio keeps its paused clock still while any `spawn_blocking` job is alive on a
/// current-thread runtime (it cannot know how long a real thread's work takes), so a job held on
/// a pool thread would never see its time pass. Here a job's [`Ctx::block_thread`] holds its pool
/// thread on a std channel until the virtual clock reaches its deadline, and a stepper task on
/// the runtime moves the clock: only when every job that has a thread (at most `threads`) is
/// held, so a job that a thread just took starts at the instant the thread came free; and one
/// millisecond at most at a time, so the runtime's own timers (a ticker) fire at their instant.
#[derive(Default)]
struct PoolClock {
    /// The pool's `max_blocking_threads`: jobs beyond it wait for a thread in tokio's queue.
    threads: Option<usize>,
    state: Mutex<PoolState>,
    changed: tokio::sync::Notify,
}

#[derive(Default)]
struct PoolState {
    /// Jobs spawned and not yet back on the runtime's thread: running or queued.
    live: usize,
    /// Held jobs: when the clock lets each go, and the channel its thread waits on.
    held: Vec<(tokio::time::Instant, std::sync::mpsc::Sender<()>)>,
    stepping: bool,
    /// The run is over (cancelled): no job is held any more.
    closed: bool,
}

impl PoolClock {
    fn state(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A job was spawned (on the runtime's thread): start the stepper if none runs.
    fn queued(self: &Arc<Self>, ctx: &Ctx) {
        let start = {
            let mut s = self.state();
            s.live += 1;
            !std::mem::replace(&mut s.stepping, true)
        };
        self.changed.notify_one();
        if start {
            let mut step = Box::pin(Arc::clone(self).step());
            // Not a lane, but a poll all the same: the driver's turn before it is over, so a
            // timer that fires in the turn after its advance is read as a timer's wake.
            let handle = tokio::spawn(std::future::poll_fn(move |cx| {
                between_turns();
                step.as_mut().poll(cx)
            }));
            if let Ok(mut spawned) = ctx.spawned.lock() {
                spawned.push(handle.abort_handle());
            }
        }
    }

    /// A job's result is back on the runtime's thread.
    fn finished(&self) {
        self.state().live -= 1;
        self.changed.notify_one();
    }

    /// Hold this pool thread until the virtual clock has moved `d` on.
    fn hold(&self, d: Duration) {
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let mut s = self.state();
            if s.closed {
                return;
            }
            s.held.push((tokio::time::Instant::now() + d, tx));
        }
        self.changed.notify_one();
        // A dropped sender (a cancelled run) lets the thread go as well.
        let _ = rx.recv();
    }

    fn release_all(&self) {
        let mut s = self.state();
        s.closed = true;
        s.held.clear();
    }

    /// Every job that has a thread is held: the clock may move.
    fn settled(&self, s: &PoolState) -> bool {
        let running = self.threads.map_or(s.live, |n| s.live.min(n));
        s.held.len() >= running
    }

    async fn step(self: Arc<Self>) {
        loop {
            // Wait until every running job is held (or none is left).
            loop {
                {
                    let mut s = self.state();
                    if s.live == 0 {
                        s.stepping = false;
                        return;
                    }
                    if self.settled(&s) {
                        break;
                    }
                }
                self.changed.notified().await;
            }
            // Let every task made ready at this instant run before the clock moves: a yielded
            // task resumes once the runtime's queue is empty.
            tokio::task::yield_now().await;
            let now = tokio::time::Instant::now();
            let next = {
                let mut s = self.state();
                if !self.settled(&s) {
                    continue;
                }
                let before = s.held.len();
                s.held.retain(|(until, tx)| {
                    let held = *until > now;
                    if !held {
                        let _ = tx.send(());
                    }
                    held
                });
                if s.held.len() < before {
                    continue;
                }
                s.held.iter().map(|(until, _)| *until).min()
            };
            let step = next.map_or(Duration::from_millis(1), |until| {
                (until - now).min(Duration::from_millis(1))
            });
            tokio::time::advance(step).await;
        }
    }
}

/// Move the paused clock forward without yielding. `tokio::time::advance` moves the clock on its
/// first poll and then yields; polling it once and dropping it keeps only the move, so the
/// calling task keeps the thread, like a blocking call would.
fn advance_now(d: Duration) {
    let _ = tokio::time::advance(d).now_or_never();
}

/// Spawn, named for tokio-console when a name is given (names need tokio's unstable API).
#[track_caller]
fn spawn_named<F>(name: Option<&str>, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[cfg(tokio_unstable)]
    if let Some(name) = name {
        return match tokio::task::Builder::new().name(name).spawn(fut) {
            Ok(handle) => handle,
            // Builder::spawn only fails when the runtime is shutting down; so would tokio::spawn.
            Err(err) => panic!("cannot spawn {name}: {err}"),
        };
    }
    #[cfg(not(tokio_unstable))]
    let _ = name;
    tokio::spawn(fut)
}

#[track_caller]
fn spawn_in_set<F>(set: &mut tokio::task::JoinSet<Ended>, name: Option<&str>, fut: F) -> AbortHandle
where
    F: Future<Output = Ended> + Send + 'static,
{
    #[cfg(tokio_unstable)]
    if let Some(name) = name {
        return match set.build_task().name(name).spawn(fut) {
            Ok(handle) => handle,
            Err(err) => panic!("cannot spawn {name}: {err}"),
        };
    }
    #[cfg(not(tokio_unstable))]
    let _ = name;
    set.spawn(fut)
}

pin_project_lite::pin_project! {
    /// A future whose every poll is recorded, whose panic is recorded as `panicked` (and turned
    /// into an ordinary ending, so a demo's panic never crashes the app), and whose drop before
    /// the end is recorded as `cancelled`. The future is pinned in place, not boxed: one
    /// allocation fewer per task.
    ///
    /// Its future is polled with a waker of its own (see [`WakeState`]), which records the wake
    /// that makes the task scheduled and passes every wake on to the waker it was polled with.
    pub struct Instrumented<F> {
        #[pin]
        fut: F,
        id: TaskId,
        polled: bool,
        done: bool,
        // One per lane for its whole life: polls build no waker and allocate nothing.
        wake: Arc<WakeState>,
        waker: Waker,
        spawned: bool,
        // The waker of the last poll, kept here too so each poll can compare without a lock and
        // only a changed waker is stored in `wake`.
        inner: Option<Waker>,
    }

    impl<F> PinnedDrop for Instrumented<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.wake.state.store(DONE, Ordering::Release);
            if *this.spawned {
                // tokio is cancelling it: it wakes the task awaiting it next.
                FINISHED.with(|f| f.set(Some(*this.id)));
            }
            if !*this.done {
                let detail = if *this.polled {
                    "dropped while waiting: aborted, timed out or its run was cancelled"
                } else {
                    "never started: dropped before its first poll"
                };
                this.wake.rec.finish(*this.id, Outcome::Cancelled, detail.to_owned());
            }
        }
    }
}

impl<F: Future<Output = Ended>> Future for Instrumented<F> {
    type Output = Ended;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(Ended::error("polled after it finished"));
        }
        *this.polled = true;
        let st: &WakeState = this.wake;
        if !this.inner.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            let w = cx.waker().clone();
            *st.inner.lock().unwrap_or_else(|e| e.into_inner()) = Some(w.clone());
            *this.inner = Some(w);
        }
        // A waker the poll keeps (to defer it, among others) adds a count.
        let counted = Arc::strong_count(this.wake);
        st.state.store(POLLING, Ordering::Release);
        between_turns();
        let start = st.rec.poll_start();
        let outer = CURRENT.with(|c| c.replace(Some(*this.id)));
        let mut lane_cx = Context::from_waker(this.waker);
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| this.fut.as_mut().poll(&mut lane_cx)));
        if let Ok(Poll::Pending) = result {
            // Woken during the poll: it stays scheduled (the wake was recorded then).
            let _ = st
                .state
                .compare_exchange(POLLING, IDLE, Ordering::AcqRel, Ordering::Acquire);
            if Arc::strong_count(this.wake) != counted {
                mark_deferred_wakes();
            }
        } else {
            st.state.store(DONE, Ordering::Release);
            if *this.spawned {
                FINISHED.with(|f| f.set(Some(*this.id)));
            }
        }
        CURRENT.with(|c| c.set(outer));
        st.rec.poll(*this.id, start);
        let ended = match result {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(ended)) => ended,
            Err(payload) => Ended::with(Outcome::Panicked, panic_message(&*payload)),
        };
        *this.done = true;
        st.rec.finish(*this.id, ended.outcome, ended.detail.clone());
        Poll::Ready(ended)
    }
}

// ---- wakes ----------------------------------------------------------------------------------
//
// A lane is polling, idle (waiting for the world) or scheduled (woken, not yet polled again).
// Only the wake that makes it scheduled is recorded: from idle (the world made it ready) or
// during its own poll (it will be polled again at once). A wake of a scheduled or finished lane
// changes nothing and records nothing, but is still passed on (wakes are idempotent, and a lost
// one would hang the task).
//
// The cause, from the waking side:
// - a recorded task is being polled on this thread (CURRENT): `task`, by it; `self` if it is
//   the woken lane (yield_now outside a runtime, a future that wakes itself, a timer reset to a
//   deadline already past, which tokio fires inside the poll);
// - a spawned lane has just ended on this thread (FINISHED): tokio wakes the task awaiting its
//   result right after the lane's last poll, outside it: `task`, by the lane that ended;
// - tokio is running a task that is not a lane (a plain `tokio::spawn`; known from the
//   runtime's poll hooks): `task` with no `by`, since there is no lane to name;
// - the wake is passed on from an in-place lane's waker to the one it wraps (INFLIGHT): the
//   cause the inner lane was woken with (`self` when that was its parent, or itself);
// - no task is being polled, on a thread that is not a driver of the run's runtime (the blocking
//   pool, a service's own thread, any foreign thread): `thread`;
// - no task is being polled, on a driver thread (a worker, or the thread of a current-thread
//   runtime's block_on; marked by the runtime's park hooks, see `runner.rs`): one of tokio's
//   three ways to call a waker outside a poll, told apart by the order tokio calls them in.
//   One driver turn (tokio 1.x `runtime/time/mod.rs` `park_internal`) first parks the I/O
//   driver, whose `turn` (`runtime/io/driver.rs`) dispatches every readiness event of its batch
//   and only then adds the batch's size to `io_driver_ready_count`; then it fires the expired
//   timers (`Handle::process`); then the scheduler wakes the wakers deferred during the polls
//   before it (`Defer::wake`: `yield_now` and an exhausted coop budget, always a task's own
//   waker from inside its poll). So:
//   - deferred: a lane whose poll returned Pending and kept a new clone of its waker (its Arc's
//     count grew: tokio's defer list holds one) puts a sentinel waker on the scheduler's defer
//     list as its poll ends (`mark_deferred_wakes`). The list is
//     woken last-in first-out, so the sentinel is woken before any waker deferred in the polls
//     before it, and after the turn's timers: from there on a wake is `self`, as it would have
//     been had tokio not deferred it. Any poll or park ends that phase.
//   - I/O or timer: the ready count is read between turns (at every poll start and park), and
//     again at the wake. Larger at the wake: the turn's I/O batch is over, so a timer. The same:
//     either the batch is in progress (I/O) or the turn had no I/O event at all (a timer); the
//     wake is recorded as a timer and corrected to `io` when the next reading between turns
//     shows the count grew during the turn.
//   On a paused clock the driver still turns the I/O driver (with a zero timeout) before moving
//   the clock and firing timers, so the rule is the same on both clocks.
//   Known limits: a signal's wake comes after the I/O batch and is not counted as I/O, so it
//   reads `timer`; on a multi-thread runtime another worker's turn between this thread's last
//   reading and its own turn can make an I/O wake read `timer`, and a worker that turns the
//   driver (`park_yield`) before its first park reads `thread`. Exact on current-thread
//   runtimes, which every virtual-clock demo but one uses (tests/wakes_tokio.rs pins the rule on
//   a loopback socket). Without `tokio_unstable` there is no ready count: every driver wake
//   outside the deferred phase reads `timer`.
// - The time of a timer's wake is when its timer was due, as asyncio's tracer dates it: tokio's
//   driver fires a timer that expired while the thread was held (std::thread::sleep,
//   `Ctx::block_thread`) only when the thread is let go, but the task was ready from its
//   deadline on. The deadline comes from tokio's own instrumentation (timer_deadlines.rs);
//   a driver wake of a task with a due deadline is a timer's, whatever the I/O count says.
//   Where no deadline is known (`--console` listens instead), the wake keeps the time the
//   driver fired it.

const POLLING: u8 = 0;
const IDLE: u8 = 1;
const SCHEDULED: u8 = 2;
const DONE: u8 = 3;

/// What a lane's waker shares: the lane's state, and the waker to pass wakes on to.
struct WakeState {
    state: AtomicU8,
    id: TaskId,
    rec: Recorder,
    inner: Mutex<Option<Waker>>,
}

/// Why a lane was woken, as [`cause_here`] finds it.
#[derive(Debug, Clone, Copy)]
struct Cause {
    cause: WakeCause,
    by: Option<TaskId>,
    /// Recorded as a timer, to be corrected to I/O if the turn turns out to have had I/O.
    maybe_io: bool,
    /// When the timer behind a timer wake was due, when known (a lane polled in place passes
    /// its own on to its parent with the wake).
    due: Option<f64>,
}

impl WakeState {
    fn woken(&self) {
        let mut s = self.state.load(Ordering::Acquire);
        let mut found = None;
        while s == IDLE || s == POLLING {
            match self.state.compare_exchange_weak(
                s,
                SCHEDULED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    let mut why = cause_here(self.id);
                    if why.cause == WakeCause::Timer && why.due.is_none() && driving() {
                        why.due = self.due_now();
                    }
                    if why.due.is_some() {
                        // A timer of this task's own was due: not I/O, whatever the count says.
                        why.maybe_io = false;
                    }
                    // Recorded before it is passed on: the wake comes before the poll it causes.
                    let at = self.rec.wake(self.id, why.cause, why.by, None);
                    if let Some(at) = at {
                        if why.maybe_io {
                            DRIVER.with(|d| d.maybe_io(&self.rec, at));
                        }
                        if let Some(due) = why.due {
                            self.rec.date_wake(at, due);
                        }
                    }
                    found = Some(why);
                    break;
                }
                Err(now) => s = now,
            }
        }
        if found.is_none() && driving() {
            // Already scheduled: the timer that fired is spent all the same, and must not be
            // taken for the cause of a later wake.
            let _ = self.due_now();
        }
        // A lane polled in place passes the wake to its parent's waker, maybe another lane's:
        // that lane was woken for the same reason.
        let outer = INFLIGHT.with(|c| c.replace(found.map(|why| (self.id, why))));
        // By reference, under the lock: a waker that wraps ours never calls back into it (lanes
        // nest, they do not loop), so the lock is never taken twice.
        if let Some(inner) = &*self.inner.lock().unwrap_or_else(|e| e.into_inner()) {
            inner.wake_by_ref();
        }
        INFLIGHT.with(|c| c.set(outer));
    }
}

impl WakeState {
    /// The deadline of this lane's timer that the driver is firing now, if one was due
    /// (src/demo/timer_deadlines.rs); consumed.
    fn due_now(&self) -> Option<f64> {
        let after = self.rec.last_poll_end(self.id);
        super::timer_deadlines::due_here(self.id, after, self.rec.now_ms())
    }
}

/// Is this thread the driver, firing timers or I/O, with no task of any kind being run?
fn driving() -> bool {
    CURRENT.with(Cell::get).is_none()
        && INFLIGHT.with(Cell::get).is_none()
        && FINISHED.with(Cell::get).is_none()
        && !IN_TASK.with(Cell::get)
        && DRIVER.with(|d| d.phase.get() == Phase::Turn)
}

impl std::task::Wake for WakeState {
    fn wake(self: Arc<Self>) {
        self.woken();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken();
    }
}

thread_local! {
    /// The spawned lane that just finished (or was dropped) on this thread: tokio wakes the task
    /// awaiting its result right after its last poll returns, outside it, and then calls the
    /// runtime's after-poll hook ([`task_polled`]), which forgets it.
    static FINISHED: Cell<Option<TaskId>> = const { Cell::new(None) };
    /// tokio is running a task on this thread (its poll, and its end if it ended): between the
    /// runtime's before- and after-poll hooks ([`task_polling`], [`task_polled`]).
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
    /// The wake being passed on from a lane's waker to the waker it wraps, and its cause.
    static INFLIGHT: Cell<Option<(TaskId, Cause)>> = const { Cell::new(None) };
    /// What this thread is to the run's runtime (see the comment above [`POLLING`]).
    static DRIVER: DriverThread = const {
        DriverThread {
            phase: Cell::new(Phase::Other),
            base: Cell::new(0),
            metrics: RefCell::new(None),
            maybe_io: RefCell::new(None),
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not a driver thread of a recorded run.
    Other,
    /// A driver thread, between turns or in the I/O and timer part of one.
    Turn,
    /// A driver thread waking the wakers deferred by the polls before the turn.
    Deferred,
}

/// Where [`Recorder::wake`] put a wake, to correct its cause.
type WakeAt = (usize, u64);

struct DriverThread {
    phase: Cell<Phase>,
    /// `io_driver_ready_count` at the last reading between turns.
    base: Cell<u64>,
    metrics: RefCell<Option<tokio::runtime::RuntimeMetrics>>,
    /// Wakes recorded as timers that were in a turn's I/O batch if the count grew during it.
    /// (A thread records one run at a time: one recorder, which it keeps between turns.)
    maybe_io: RefCell<Option<(Recorder, Vec<WakeAt>)>>,
}

impl DriverThread {
    fn maybe_io(&self, rec: &Recorder, at: WakeAt) {
        let mut m = self.maybe_io.borrow_mut();
        match &mut *m {
            Some((r, wakes)) if r.same_run(rec) => wakes.push(at),
            _ => *m = Some((rec.clone(), vec![at])),
        }
    }

    /// tokio's count of I/O events dispatched (an unstable metric: without `tokio_unstable`
    /// there is none, and every wake of the driver reads `timer`).
    fn ready_count(&self) -> Option<u64> {
        #[cfg(tokio_unstable)]
        return self
            .metrics
            .borrow()
            .as_ref()
            .map(tokio::runtime::RuntimeMetrics::io_driver_ready_count);
        #[cfg(not(tokio_unstable))]
        None
    }

    /// A reading between turns (or after the I/O and timers of one): settle the wakes of the
    /// turn before, and start counting the next.
    fn between_turns(&self) {
        let Some(count) = self.ready_count() else {
            return;
        };
        if count > self.base.get() {
            self.base.set(count);
            if let Some((rec, wakes)) = &mut *self.maybe_io.borrow_mut() {
                for at in wakes.drain(..) {
                    rec.set_wake_cause(at, WakeCause::Io);
                }
            }
        } else if let Some((_, wakes)) = &mut *self.maybe_io.borrow_mut() {
            wakes.clear();
        }
    }

    /// Drive the runtime `metrics` reads: its count starts afresh.
    fn start(&self, metrics: tokio::runtime::RuntimeMetrics) {
        *self.metrics.borrow_mut() = Some(metrics);
        *self.maybe_io.borrow_mut() = None;
        self.base.set(self.ready_count().unwrap_or(0));
        self.phase.set(Phase::Turn);
    }
}

/// Why `woken` is being woken, seen from this thread.
fn cause_here(woken: TaskId) -> Cause {
    let plain = |cause| Cause {
        cause,
        by: None,
        maybe_io: false,
        due: None,
    };
    if let Some((_, why)) = INFLIGHT.with(Cell::get) {
        return match why.by {
            // A lane woken by its own in-place parent (or child): the parent's own doing.
            Some(by) if by == woken => plain(WakeCause::SelfWake),
            _ if why.cause == WakeCause::SelfWake => plain(WakeCause::SelfWake),
            _ => why,
        };
    }
    let by = |t| Cause {
        cause: WakeCause::Task,
        by: Some(t),
        maybe_io: false,
        due: None,
    };
    match CURRENT.with(Cell::get) {
        Some(t) if t == woken => plain(WakeCause::SelfWake),
        Some(t) => by(t),
        None if let Some(t) = FINISHED.with(Cell::get) => by(t),
        // A task that is not a lane (a plain `tokio::spawn`): a task, with no lane to name.
        None if IN_TASK.with(Cell::get) => Cause {
            cause: WakeCause::Task,
            by: None,
            maybe_io: false,
            due: None,
        },
        None => DRIVER.with(|d| match d.phase.get() {
            Phase::Other => plain(WakeCause::Thread),
            Phase::Deferred => plain(WakeCause::SelfWake),
            Phase::Turn => Cause {
                cause: WakeCause::Timer,
                by: None,
                maybe_io: d.ready_count().is_some_and(|c| c == d.base.get()),
                due: None,
            },
        }),
    }
}

/// A poll is starting: any turn before it is over.
#[inline]
fn between_turns() {
    FINISHED.with(|f| f.set(None));
    DRIVER.with(|d| {
        if d.phase.get() != Phase::Other {
            d.phase.set(Phase::Turn);
            d.between_turns();
        }
    });
}

/// Put the sentinel on the scheduler's defer list (tokio's `yield_now`, polled once with it,
/// is the public way in). Called at the end of a poll, while CURRENT is still the lane, so where
/// there is no defer list (outside a runtime, or in `block_in_place`) and tokio wakes it at once,
/// the sentinel knows it is not the deferred phase.
fn mark_deferred_wakes() {
    struct Sentinel;
    impl std::task::Wake for Sentinel {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            if CURRENT.with(Cell::get).is_some() {
                return;
            }
            DRIVER.with(|d| {
                if d.phase.get() == Phase::Turn {
                    d.between_turns();
                    d.phase.set(Phase::Deferred);
                }
            });
        }
    }
    // One for the process, so tokio's check against the last deferred waker drops repeats.
    static SENTINEL: std::sync::LazyLock<Waker> =
        std::sync::LazyLock::new(|| Waker::from(Arc::new(Sentinel)));
    let waker: &Waker = &SENTINEL;
    let mut cx = Context::from_waker(waker);
    let _ = std::pin::pin!(tokio::task::yield_now()).poll(&mut cx);
}

/// The runtime's `on_after_task_poll` hook: tokio has finished with the task it polled (and
/// woken whoever awaited it, if it ended).
pub fn task_polled() {
    FINISHED.with(|f| f.set(None));
    IN_TASK.with(|t| t.set(false));
}

/// The runtime's `on_before_task_poll` hook: tokio is about to run a task on this thread.
pub fn task_polling() {
    IN_TASK.with(|t| t.set(true));
}

/// This thread drives `handle`'s runtime (the thread of a current-thread runtime's `block_on`):
/// a wake it makes with no task polled is the driver's. Worker threads are marked by
/// [`driver_thread_parks`], which the runner installs as the runtime's park hook.
pub fn driver_thread(handle: &tokio::runtime::Handle) {
    DRIVER.with(|d| d.start(handle.metrics()));
}

/// The thread no longer drives a runtime (its run is over): forget the runtime's handle.
pub fn leave_driver_thread() {
    DRIVER.with(|d| {
        d.between_turns();
        *d.metrics.borrow_mut() = None;
        *d.maybe_io.borrow_mut() = None;
        d.phase.set(Phase::Other);
    });
}

/// The runtime's `on_thread_park` and `on_thread_unpark` hook: only threads that drive the
/// runtime park through them (never its blocking pool), and a park is between turns.
pub fn driver_thread_parks() {
    FINISHED.with(|f| f.set(None));
    DRIVER.with(|d| {
        if d.metrics.borrow().is_none() {
            let Ok(handle) = tokio::runtime::Handle::try_current() else {
                return;
            };
            d.start(handle.metrics());
        }
        d.phase.set(Phase::Turn);
        d.between_turns();
    });
}

/// How many of something are in progress (requests in flight, permits held), recorded as a
/// series; clones share the count.
#[derive(Clone)]
pub struct Gauge {
    ctx: Ctx,
    series: &'static str,
    now: Arc<std::sync::atomic::AtomicUsize>,
    max: Arc<std::sync::atomic::AtomicUsize>,
}

impl Gauge {
    pub fn enter(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.now.fetch_add(1, SeqCst) + 1;
        self.max.fetch_max(n, SeqCst);
        self.ctx.series(self.series, n);
    }

    pub fn leave(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.now.fetch_sub(1, SeqCst).saturating_sub(1);
        self.ctx.series(self.series, n);
    }

    pub fn max(&self) -> usize {
        self.max.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::PoolClock;

    /// A cancelled run lets go of the pool threads it held, and holds none after: nothing would
    /// ever move the clock to their deadlines.
    #[test]
    fn release_all_lets_held_pool_threads_go() {
        let pool = Arc::new(PoolClock {
            threads: Some(1),
            ..PoolClock::default()
        });
        let (done_tx, done) = std::sync::mpsc::channel();
        let held = Arc::clone(&pool);
        std::thread::spawn(move || {
            held.hold(Duration::from_secs(3600));
            let _ = done_tx.send(());
        });
        while pool.state().held.is_empty() {
            std::thread::yield_now();
        }
        pool.release_all();
        assert!(
            done.recv_timeout(Duration::from_secs(5)).is_ok(),
            "still held"
        );
        // A job that reaches its blocking call after the cancel is not held at all.
        pool.hold(Duration::from_secs(3600));
    }
}
