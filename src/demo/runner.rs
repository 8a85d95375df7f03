//! Running a demo: each variant on a fresh runtime, on a named thread of its own (never the UI's),
//! cancellable at any instant, leaving nothing running.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::ctx::{Ctx, Ended};
use super::recorder::Recorder;
use super::timeline::{Outcome, TimelineSnapshot};
use super::{Clock, Demo, Flavor, Params, source};

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
    /// Check names and clocks; returns a message naming the valid choices.
    pub fn build(
        demo_id: &str,
        variants: &[String],
        sets: &[String],
        clock: Clock,
    ) -> Result<RunRequest, String> {
        let Some(demo) = super::find(demo_id) else {
            return Err(format!(
                "unknown demo `{demo_id}` (demos: {})",
                super::ids().join(", ")
            ));
        };
        let spec = demo.spec();
        let names: Vec<&'static str> = if variants.is_empty() {
            spec.default_variants.to_vec()
        } else {
            let mut out = Vec::new();
            for v in variants {
                let Some(found) = spec.variant(v) else {
                    return Err(format!(
                        "demo `{demo_id}` has no variant `{v}` (variants: {})",
                        spec.variant_names().join(", ")
                    ));
                };
                out.push(found.name);
            }
            out
        };
        for name in &names {
            if let Some(v) = spec.variant(name)
                && !v.clocks.contains(&clock)
            {
                let supported: Vec<&str> = v.clocks.iter().map(|c| c.name()).collect();
                return Err(format!(
                    "variant `{name}` of `{demo_id}` does not run on the {} clock (supported: {})",
                    clock.name(),
                    supported.join(", ")
                ));
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

/// One variant's recorded run.
#[derive(Debug, Clone, Serialize)]
pub struct VariantRun {
    pub variant: &'static str,
    /// When the demo's main task finished (or the run was cancelled or failed).
    pub total_ms: f64,
    #[serde(flatten)]
    pub timeline: TimelineSnapshot,
    /// Set when the run could not start or was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tasks still alive on the runtime after the run's clean-up; always 0 (tests assert it).
    #[serde(skip)]
    pub alive_after: usize,
}

/// The run document (`asyncdojo run --json`), see the design notes.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub demo: &'static str,
    pub clock: Clock,
    pub params: Params,
    pub runs: Vec<VariantRun>,
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
    live: Arc<Mutex<Vec<(&'static str, Recorder)>>>,
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
            .map(|l| l.iter().map(|(v, r)| (*v, r.snapshot())).collect())
            .unwrap_or_default()
    }

    /// A number that changes whenever anything new was recorded.
    pub fn version(&self) -> u64 {
        self.live
            .lock()
            .map(|l| l.iter().map(|(_, r)| r.version()).sum::<u64>() + l.len() as u64)
            .unwrap_or(0)
    }

    /// Wait for the run to end.
    pub fn wait(mut self) -> RunReport {
        let thread = self.thread.take().expect("a DemoRun is waited for once");
        match thread.join() {
            Ok(report) => report,
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

fn run_all(
    req: &RunRequest,
    cancel: &CancellationToken,
    live: &Mutex<Vec<(&'static str, Recorder)>>,
) -> RunReport {
    let spec = req.demo.spec();
    let variants: Vec<&'static str> = if req.variants.is_empty() {
        spec.default_variants.to_vec()
    } else {
        req.variants.clone()
    };
    let mut runs = Vec::new();
    for variant in variants {
        if cancel.is_cancelled() {
            break;
        }
        runs.push(run_variant(req, variant, cancel, live));
    }
    RunReport {
        demo: spec.id,
        clock: req.clock,
        params: req.params.clone(),
        runs,
    }
}

fn build_runtime(req: &RunRequest, variant: &str) -> std::io::Result<tokio::runtime::Runtime> {
    let spec = req.demo.spec();
    let v = spec.variant(variant);
    let flavor = v.map_or(Flavor::CurrentThread, |v| v.flavor);
    let mut builder = match flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Flavor::MultiThread => {
            let workers = v
                .and_then(|v| v.workers_param)
                .map_or(2, |p| req.params.count(p).max(1));
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(workers);
            b
        }
    };
    builder
        .enable_time()
        .enable_io()
        .thread_name(format!("demo-{}-worker", spec.id));
    if req.clock == Clock::Virtual {
        builder.start_paused(true);
    }
    builder.build()
}

fn run_variant(
    req: &RunRequest,
    variant: &'static str,
    cancel: &CancellationToken,
    live: &Mutex<Vec<(&'static str, Recorder)>>,
) -> VariantRun {
    let spec = req.demo.spec();
    let failed = |error: String| VariantRun {
        variant,
        total_ms: 0.0,
        timeline: TimelineSnapshot::default(),
        error: Some(error),
        alive_after: 0,
    };
    let rt = match build_runtime(req, variant) {
        Ok(rt) => rt,
        Err(err) => return failed(format!("could not start a runtime: {err}")),
    };
    let (region_start, region_text) = source::region(spec.source);
    let region = (region_start, region_text.lines().count() as u32);
    // The recorder reads the clock it is created under: create it inside the runtime.
    let rec = rt.block_on(async { Recorder::new() });
    if let Ok(mut l) = live.lock() {
        l.push((variant, rec.clone()));
    }
    let ctx = Ctx::new(rec.clone(), req.clock, spec.id, region).with_os_signals(req.os_signals);
    let main = req.demo.run(ctx.clone(), variant, req.params.clone());
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
        None => Some("cancelled".to_owned()),
        Some(_) if rec.run_error().is_some() => rec.run_error(),
        Some(e) if e.outcome == Outcome::Panicked => {
            Some(format!("the demo panicked: {}", e.detail))
        }
        Some(_) => None,
    };
    VariantRun {
        variant,
        total_ms,
        timeline: rec.snapshot(),
        error,
        alive_after,
    }
}
