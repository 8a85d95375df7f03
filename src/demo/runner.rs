//! Running a demo: each variant on a fresh runtime, on a named thread of its own (never the UI's),
//! cancellable at any instant, leaving nothing running.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio_util::sync::CancellationToken;

use super::ctx::{Ctx, Ended, SetupError};
use super::params::ParamError;
use super::recorder::Recorder;
use super::timeline::{Outcome, TimelineSnapshot};
use super::timer_deadlines::TimerDeadlines;
use super::{Clock, Demo, Flavor, ParamVal, Params};

/// A request that names what does not exist or cannot be combined: the user's mistake, a usage
/// error (`run` exits 2). The message names the valid choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("unknown demo `{demo}` (demos: {})", known.join(", "))]
    UnknownDemo {
        demo: String,
        known: Vec<&'static str>,
    },
    #[error("demo `{demo}` has no variant `{variant}` (variants: {})", known.join(", "))]
    UnknownVariant {
        demo: &'static str,
        variant: String,
        known: Vec<&'static str>,
    },
    #[error(
        "variant `{variant}` of `{demo}` does not run on the {} clock (supported: {})",
        clock.name(),
        supported.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
    )]
    WrongClock {
        demo: &'static str,
        variant: &'static str,
        clock: Clock,
        supported: &'static [Clock],
    },
    #[error(transparent)]
    Param(#[from] ParamError),
}

impl RequestError {
    pub fn unknown_demo(demo: &str) -> RequestError {
        RequestError::UnknownDemo {
            demo: demo.to_owned(),
            known: super::ids(),
        }
    }
}

/// Why one variant's run did not end as the demo intended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// Stopped on request (the app's cancel key, or a dropped [`DemoRun`]).
    #[error("cancelled")]
    Cancelled,
    #[error("could not start a runtime: {reason}")]
    Runtime { reason: String },
    /// The environment kept the demo from doing its job; see [`Ctx::setup_failed`].
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("the demo panicked: {detail}")]
    Panicked { detail: String },
    /// A request built by hand (not by [`RunRequest::build`]) that the demo refused.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// An asyncio twin's run that failed: Python raised, the twin hung past its deadline, or it
    /// wrote no run for the variant. The reason is the tracer's or the supervisor's sentence.
    #[error("{reason}")]
    Twin { reason: String },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub demo: &'static dyn Demo,
    /// Variants in the order they run; empty means the demo's defaults.
    pub variants: Vec<&'static str>,
    pub params: Params,
    pub clock: Clock,
    /// The run may listen for SIGINT/SIGTERM (the graceful-shutdown demo). Only headless runs
    /// set it: in the app Ctrl-C is a key, and a tokio signal handler, once installed, stays for
    /// the life of the process.
    pub os_signals: bool,
}

impl RunRequest {
    /// Check names, clocks and parameters; the error names the valid choices.
    pub fn build(
        demo_id: &str,
        variants: &[String],
        sets: &[String],
        clock: Clock,
    ) -> Result<RunRequest, RequestError> {
        let demo = super::find(demo_id).ok_or_else(|| RequestError::unknown_demo(demo_id))?;
        let spec = demo.spec();
        let names: Vec<&'static str> = if variants.is_empty() {
            spec.default_variants.to_vec()
        } else {
            variants
                .iter()
                .map(|v| spec.parse_variant(v).map(|found| found.name))
                .collect::<Result<_, _>>()?
        };
        for name in &names {
            if let Some(v) = spec.variant(name)
                && !v.clocks.contains(&clock)
            {
                return Err(RequestError::WrongClock {
                    demo: spec.id,
                    variant: v.name,
                    clock,
                    supported: v.clocks,
                });
            }
        }
        let params = super::Params::defaults(spec).with_sets(spec, sets)?;
        Ok(RunRequest {
            demo,
            variants: names,
            params,
            clock,
            os_signals: false,
        })
    }
}

/// One variant's recorded run (its part of the run document: [`super::document::RunEntry`]).
#[derive(Debug, Clone)]
pub struct VariantRun {
    pub variant: &'static str,
    /// When the demo's main task finished (or the run was cancelled or failed).
    pub total_ms: f64,
    pub timeline: TimelineSnapshot,
    /// Set when the run could not start, failed or was cancelled.
    pub error: Option<RunError>,
    /// Tasks still alive on the runtime after the run's clean-up; always 0 (tests assert it).
    pub alive_after: usize,
}

/// The runs of one request: what the run document (`asyncdojo run --json`) is written from, by
/// [`super::document::Document::of_report`]; its schema is `docs/run-document.md`.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub demo: &'static str,
    pub clock: Clock,
    pub params: Params,
    pub runs: Vec<VariantRun>,
}

impl VariantRun {
    /// A variant that could not run: no timeline, and why.
    fn failed(variant: &'static str, error: RunError) -> VariantRun {
        VariantRun {
            variant,
            total_ms: 0.0,
            timeline: TimelineSnapshot::default(),
            error: Some(error),
            alive_after: 0,
        }
    }
}

impl RunReport {
    pub fn run(&self, variant: &str) -> Option<&VariantRun> {
        self.runs.iter().find(|r| r.variant == variant)
    }
}

/// A run in progress on its own thread. Dropping it cancels the run.
pub struct DemoRun {
    thread: Option<JoinHandle<RunReport>>,
    cancel: CancellationToken,
    live: Arc<Live>,
}

/// The variants of a run in progress, in the order they started: the one recording, and the
/// finished ones, kept here (not copied) so the UI can draw them while later variants run.
/// [`DemoRun::wait`] moves the finished runs out into the report.
type Live = Mutex<Vec<Progress>>;

enum Progress {
    Recording(&'static str, Recorder),
    /// Boxed (a finished run is much larger than a recorder's handle), with the recorder's last
    /// version, so [`DemoRun::version`] never goes back.
    Finished(Box<VariantRun>, u64),
}

impl Progress {
    fn snapshot(&self) -> (&'static str, TimelineSnapshot) {
        match self {
            Progress::Recording(variant, rec) => (variant, rec.snapshot()),
            Progress::Finished(run, _) => (run.variant, run.timeline.clone()),
        }
    }

    fn version(&self) -> u64 {
        match self {
            Progress::Recording(_, rec) => rec.version(),
            // One more than the recorder's last: finishing is a change.
            Progress::Finished(_, version) => version + 1,
        }
    }
}

impl DemoRun {
    /// Start the run on a new thread named after the demo.
    pub fn start(req: RunRequest) -> std::io::Result<DemoRun> {
        let cancel = CancellationToken::new();
        let live = Arc::new(Mutex::new(Vec::new()));
        let thread = std::thread::Builder::new()
            .name(format!("demo-{}", req.demo.spec().id))
            .spawn({
                let cancel = cancel.clone();
                let live = Arc::clone(&live);
                move || run_all(&req, &cancel, &live)
            })?;
        Ok(DemoRun {
            thread: Some(thread),
            cancel,
            live,
        })
    }

    /// Ask the run to stop; its tasks end and its runtime is dropped.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Snapshots of the variants started so far, for drawing while the run goes on.
    pub fn snapshots(&self) -> Vec<(&'static str, TimelineSnapshot)> {
        self.live
            .lock()
            .map(|l| l.iter().map(Progress::snapshot).collect())
            .unwrap_or_default()
    }

    /// A number that changes whenever anything new was recorded.
    pub fn version(&self) -> u64 {
        self.live
            .lock()
            .map(|l| l.iter().map(Progress::version).sum::<u64>() + l.len() as u64)
            .unwrap_or(0)
    }

    /// Wait for the run to end.
    pub fn wait(mut self) -> RunReport {
        let thread = self.thread.take().expect("a DemoRun is waited for once");
        match thread.join() {
            Ok(mut report) => {
                // The thread has ended: the finished runs are ours to move out, uncopied.
                let live =
                    std::mem::take(&mut *self.live.lock().unwrap_or_else(|e| e.into_inner()));
                report.runs = live
                    .into_iter()
                    .filter_map(|p| match p {
                        Progress::Finished(run, _) => Some(*run),
                        Progress::Recording(..) => None,
                    })
                    .collect();
                report
            }
            // run_all catches demo panics; reaching here means the engine itself failed.
            Err(p) => panic!(
                "demo runner thread failed: {}",
                super::ctx::panic_message(&*p)
            ),
        }
    }
}

impl Drop for DemoRun {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start a run and wait for it: the headless commands and the tests.
pub fn run_blocking(req: RunRequest) -> std::io::Result<RunReport> {
    Ok(DemoRun::start(req)?.wait())
}

/// Run the variants one after another. Their runs go to `live` as they finish; the report
/// returned here has only the header, and [`DemoRun::wait`] gives it the runs.
fn run_all(req: &RunRequest, cancel: &CancellationToken, live: &Live) -> RunReport {
    let spec = req.demo.spec();
    let variants: Vec<&'static str> = if req.variants.is_empty() {
        spec.default_variants.to_vec()
    } else {
        req.variants.clone()
    };
    for variant in variants {
        if cancel.is_cancelled() {
            break;
        }
        run_variant(req, variant, cancel, live);
    }
    RunReport {
        demo: spec.id,
        clock: req.clock,
        params: req.params.clone(),
        runs: Vec::new(),
    }
}

fn flavor(req: &RunRequest, variant: &str) -> Flavor {
    req.demo
        .spec()
        .variant(variant)
        .map_or(Flavor::CurrentThread, |v| v.flavor)
}

/// The value of the integer parameter `name`, as a count.
fn int_param(req: &RunRequest, name: Option<&str>) -> Option<usize> {
    match req.params.get(name?) {
        Some(ParamVal::Int(n)) => usize::try_from(*n).ok(),
        _ => None,
    }
}

/// The blocking pool's size when the variant sets it (tokio wants at least one thread).
fn blocking_threads(req: &RunRequest, variant: &str) -> Option<usize> {
    let spec = req.demo.spec().variant(variant)?;
    int_param(req, spec.blocking_threads_param).map(|n| n.max(1))
}

fn build_runtime(
    req: &RunRequest,
    variant: &str,
    deadlines: &TimerDeadlines,
) -> std::io::Result<tokio::runtime::Runtime> {
    let spec = req.demo.spec();
    let v = spec.variant(variant);
    let flavor = flavor(req, variant);
    let mut builder = match flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Flavor::MultiThread => {
            let workers = int_param(req, v.and_then(|v| v.workers_param)).map_or(2, |n| n.max(1));
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(workers);
            b
        }
    };
    builder
        .enable_time()
        .enable_io()
        .thread_name(format!("demo-{}-worker", spec.id));
    if let Some(n) = blocking_threads(req, variant) {
        builder.max_blocking_threads(n);
    }
    if req.clock == Clock::Virtual {
        builder.start_paused(true);
    }
    deadlines.watch_threads(&mut builder);
    record_wakes_on(&mut builder).build()
}

/// The hooks the recorder needs to tell why a task was woken (`ctx.rs`, "wakes"): a thread that
/// parks the runtime drives it, and a park is between two turns of its driver. A runtime that
/// runs recorded lanes is built with them; the thread that calls a current-thread runtime's
/// `block_on` is marked with [`super::ctx::driver_thread`] as well, since it can turn the driver
/// before its first park.
pub fn record_wakes_on(builder: &mut tokio::runtime::Builder) -> &mut tokio::runtime::Builder {
    builder
        .on_thread_park(super::ctx::driver_thread_parks)
        .on_thread_unpark(super::ctx::driver_thread_parks);
    // Without it a task's result wakes its awaiter as the task that produced it only until the
    // next poll or park on the thread; with it, exactly until tokio is done with the task.
    // And a wake made while tokio runs a task that is not a lane is that task's, not the
    // driver's.
    #[cfg(tokio_unstable)]
    builder
        .on_before_task_poll(|_| super::ctx::task_polling())
        .on_after_task_poll(|_| super::ctx::task_polled());
    builder
}

/// Run one variant, its progress in `live` from its start, its run there when it ends.
fn run_variant(req: &RunRequest, variant: &'static str, cancel: &CancellationToken, live: &Live) {
    let lock = || live.lock().unwrap_or_else(|e| e.into_inner());
    // When each timer wake was due (a thread held past it fires it late): learnt on every thread
    // of the runtime, this one included (it runs `block_on`, and every task of a current_thread
    // runtime).
    let deadlines = TimerDeadlines::new(req.clock);
    let rt = match build_runtime(req, variant, &deadlines) {
        Ok(rt) => rt,
        Err(err) => {
            let error = RunError::Runtime {
                reason: err.to_string(),
            };
            let run = Box::new(VariantRun::failed(variant, error));
            lock().push(Progress::Finished(run, 0));
            return;
        }
    };
    // The recorder reads the clock it is created under: create it inside the runtime.
    let rec = rt.block_on(async { Recorder::on(req.clock) });
    deadlines.start(&rec);
    let _deadlines_here = deadlines.install();
    if flavor(req, variant) == Flavor::CurrentThread {
        super::ctx::driver_thread(rt.handle());
    }
    let slot = {
        let mut l = lock();
        l.push(Progress::Recording(variant, rec.clone()));
        l.len() - 1
    };
    let mut run = record_variant(req, variant, cancel, rt, &rec);
    super::ctx::leave_driver_thread();
    // Move the timeline out under the live view's lock, so no reader ever sees the recorder
    // emptied before the finished run takes its place.
    let mut l = lock();
    run.timeline = rec.take_snapshot();
    l[slot] = Progress::Finished(Box::new(run), rec.version());
}

/// Run the demo on `rt` until it ends or is cancelled, then end whatever it left behind. The
/// timeline stays in `rec` for the caller to move out.
fn record_variant(
    req: &RunRequest,
    variant: &'static str,
    cancel: &CancellationToken,
    rt: tokio::runtime::Runtime,
    rec: &Recorder,
) -> VariantRun {
    let spec = req.demo.spec();
    let ctx = Ctx::new(rec.clone(), req.clock, spec.id)
        .showing(spec.source_file)
        .with_os_signals(req.os_signals)
        .with_blocking_threads(blocking_threads(req, variant));
    let main = match req.demo.start(ctx.clone(), variant, &req.params) {
        Ok(main) => main,
        // A request built by hand with a name the demo does not have: never run another variant.
        Err(e) => return VariantRun::failed(variant, e.into()),
    };
    let outcome = rt.block_on(async {
        let main = ctx.instrument("main", async move {
            main.await;
            Ended::ok("")
        });
        tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            ended = main => Some(ended),
        }
    });
    let total_ms = rec.now_ms();
    // Whatever the demo left behind (a task it never joined, a cancelled run) ends here.
    ctx.abort_all();
    let alive_after = rt.block_on(async {
        // An aborted task is gone once a worker has dropped it; on a multi-thread runtime that
        // can take a moment, so yield first and then wait in small steps (bounded: ~1 s).
        let alive = || {
            tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks()
        };
        for round in 0..1100 {
            if alive() == 0 {
                break;
            }
            if round < 100 {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        alive()
    });
    // Blocking-pool work cannot be interrupted; don't let it hold the UI's cancel.
    rt.shutdown_background();
    let error = match &outcome {
        None => Some(RunError::Cancelled),
        Some(_) if rec.run_error().is_some() => rec.run_error().map(RunError::Setup),
        Some(e) if e.outcome == Outcome::Panicked => Some(RunError::Panicked {
            detail: e.detail.clone(),
        }),
        Some(_) => None,
    };
    VariantRun {
        variant,
        total_ms,
        // Still in the recorder: `run_variant` moves it out.
        timeline: TimelineSnapshot::default(),
        error,
        alive_after,
    }
}
