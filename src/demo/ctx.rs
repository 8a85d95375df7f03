//! What a demo uses to run its tasks where the recorder can see them.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use tokio::task::{AbortHandle, JoinHandle};

use super::Clock;
use super::recorder::Recorder;
use super::timeline::{Outcome, SeriesValue, TaskId};

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
        }
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
        let parent = CURRENT.with(Cell::get);
        let line = self.shown_line(Location::caller());
        let id = self.rec.new_task_at(name.into(), parent, line);
        Instrumented {
            fut,
            rec: self.rec.clone(),
            id,
            polled: false,
            done: false,
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
        let fut = self.instrument(name, fut);
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
        let fut = self.instrument(name, fut);
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

    /// Run blocking work on tokio's blocking pool, recorded as a lane of its own.
    #[track_caller]
    pub fn spawn_blocking<F>(&self, name: impl Into<String>, work: F) -> JoinHandle<Ended>
    where
        F: FnOnce() -> Ended + Send + 'static,
    {
        let parent = CURRENT.with(Cell::get);
        let line = self.shown_line(Location::caller());
        let id = self.rec.new_task_at(name.into(), parent, line);
        let rec = self.rec.clone();
        tokio::task::spawn_blocking(move || {
            let start = rec.poll_start();
            let ended = std::panic::catch_unwind(AssertUnwindSafe(work))
                .unwrap_or_else(|p| Ended::with(Outcome::Panicked, panic_message(&*p)));
            rec.poll(id, start);
            rec.finish(id, ended.outcome, ended.detail.clone());
            ended
        })
    }

    /// Hold the current thread for `d`, as `std::thread::sleep` or a blocking call would. On the
    /// virtual clock the paused clock is moved forward while the thread stays held: nothing else
    /// on this runtime runs meanwhile, exactly as with a real blocking call.
    pub fn block_thread(&self, d: Duration) {
        match self.clock {
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

    /// Abort every task spawned through this context (a cancelled run).
    pub fn abort_all(&self) {
        if let Ok(spawned) = self.spawned.lock() {
            for h in spawned.iter() {
                h.abort();
            }
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
    pub struct Instrumented<F> {
        #[pin]
        fut: F,
        rec: Recorder,
        id: TaskId,
        polled: bool,
        done: bool,
    }

    impl<F> PinnedDrop for Instrumented<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                let detail = if *this.polled {
                    "dropped while waiting: aborted, timed out or its run was cancelled"
                } else {
                    "never started: dropped before its first poll"
                };
                this.rec.finish(*this.id, Outcome::Cancelled, detail.to_owned());
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
        let start = this.rec.poll_start();
        let outer = CURRENT.with(|c| c.replace(Some(*this.id)));
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| this.fut.as_mut().poll(cx)));
        CURRENT.with(|c| c.set(outer));
        this.rec.poll(*this.id, start);
        let ended = match result {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(ended)) => ended,
            Err(payload) => Ended::with(Outcome::Panicked, panic_message(&*payload)),
        };
        *this.done = true;
        this.rec
            .finish(*this.id, ended.outcome, ended.detail.clone());
        Poll::Ready(ended)
    }
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
