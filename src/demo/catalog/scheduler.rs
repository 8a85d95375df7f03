//! C3/Q11: a tiny scheduler. A recurring job at a fixed rate (tokio::time::interval) or with a
//! fixed delay (run, then sleep), a one-shot job, and a cancel-all that waits for every task.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::time::Instant;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};

pub struct Scheduler;

variants! {
    pub enum Variant {
        FixedRate => VariantSpec::single(
            "fixed-rate",
            "tokio::time::interval: run k starts at start + k * interval_ms",
        ),
        FixedDelay => VariantSpec::single(
            "fixed-delay",
            "run the job, then sleep interval_ms: each run starts job_ms later than the grid",
        ),
    }
}

// The default cancel falls between runs on both schedules (fixed rate: ... 900, 1000; fixed
// delay: ... 910, 1040), never on one: at 1000 it tied with the 11th fixed-rate run, and which
// came first on the real clock was luck. Not 950, the middle of the grid: on the real clock each
// sleep ends a little late and fixed delay adds that up, its 8th run coming at ~930 ms.
// `default_run_keeps_clear_of_the_cancel` in the tests is the guard.
params! {
    pub struct Config {
        interval_ms: Duration = Ms(1..=60_000), "100",
            "the recurring job's period (fixed-rate) or pause after each run (fixed-delay)";
        job_ms: Duration = Ms(0..=60_000), "30", "how long each run of a job takes";
        once_delay_ms: Duration = Ms(0..=60_000), "250", "when the one-shot job runs";
        cancel_at_ms: Duration = Ms(0..=60_000), "970", "when every job is cancelled";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "scheduler",
    title: "Scheduler: fixed rate vs fixed delay, one-shot, cancel all",
    about: "A recurring job runs job_ms every interval_ms: at a fixed rate its starts stay on \
            the k * interval grid; with a fixed delay each run starts interval_ms after the \
            previous one ended, so it drifts. A one-shot job runs once; at cancel_at_ms \
            everything is cancelled and awaited.",
    variants: Variant::SPECS,
    default_variants: &[Variant::FixedRate.name(), Variant::FixedDelay.name()],
    params: Config::PARAMS,
    metrics: &[
        (
            "recurring_runs",
            "runs of the recurring job started before cancel_at_ms",
        ),
        (
            "drift_ms",
            "how late the last run started: its start minus k * interval_ms (k from 0)",
        ),
    ],
    source: include_str!("scheduler/shown.rs"),
    source_file: "src/demo/catalog/scheduler/shown.rs",
};

impl DemoProgram for Scheduler {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let cfg = shown::Config {
            interval: cfg.interval_ms,
            job: cfg.job_ms,
            once_delay: cfg.once_delay_ms,
            cancel_at: cfg.cancel_at_ms,
        };
        async move {
            let runs = RunLog::new(Instant::now());
            shown::schedule(&ctx, variant, cfg, &runs).await;
            // A run due exactly at cancel_at_ms may or may not get polled before the cancel:
            // count only runs that started before it.
            let started = runs.starts_before(cfg.cancel_at);
            ctx.metric("recurring_runs", started.len() as u64);
            let drift = match started.last() {
                Some(&last) => {
                    let on_grid = cfg.interval * (started.len() as u32 - 1);
                    last.as_millis() as i64 - on_grid.as_millis() as i64
                }
                None => 0,
            };
            ctx.metric("drift_ms", drift);
        }
        .boxed()
    }
}

/// When each run of the recurring job started.
#[derive(Clone)]
struct RunLog {
    start: Instant,
    starts: Arc<Mutex<Vec<Duration>>>,
}

impl RunLog {
    fn new(start: Instant) -> Self {
        RunLog {
            start,
            starts: Arc::default(),
        }
    }

    /// Note a run starting now; returns its number (1-based).
    fn started(&self) -> usize {
        let at = self.start.elapsed();
        match self.starts.lock() {
            Ok(mut s) => {
                s.push(at);
                s.len()
            }
            Err(_) => 0,
        }
    }

    fn starts_before(&self, t: Duration) -> Vec<Duration> {
        self.starts
            .lock()
            .map(|s| s.iter().copied().filter(|&at| at < t).collect())
            .unwrap_or_default()
    }
}
