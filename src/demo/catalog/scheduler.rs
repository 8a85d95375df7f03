//! C3/Q11: a tiny scheduler. A recurring job at a fixed rate (tokio::time::interval) or with a
//! fixed delay (run, then sleep), a one-shot job, and a cancel-all that waits for every task.

use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct Scheduler;

static SPEC: DemoSpec = DemoSpec {
    id: "scheduler",
    title: "Scheduler: fixed rate vs fixed delay, one-shot, cancel all",
    about: "A recurring job runs job_ms every interval_ms: at a fixed rate its starts stay on \
            the k * interval grid; with a fixed delay each run starts interval_ms after the \
            previous one ended, so it drifts. A one-shot job runs once; at cancel_at_ms \
            everything is cancelled and awaited.",
    variants: &[
        VariantSpec::single(
            "fixed-rate",
            "tokio::time::interval: run k starts at start + k * interval_ms",
        ),
        VariantSpec::single(
            "fixed-delay",
            "run the job, then sleep interval_ms: each run starts job_ms later than the grid",
        ),
    ],
    default_variants: &["fixed-rate", "fixed-delay"],
    params: &[
        ParamSpec {
            name: "interval_ms",
            kind: ParamKind::Ms {
                min: 1,
                max: 60_000,
            },
            default: "100",
            help: "the recurring job's period (fixed-rate) or pause after each run (fixed-delay)",
        },
        ParamSpec {
            name: "job_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "30",
            help: "how long each run of a job takes",
        },
        ParamSpec {
            name: "once_delay_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "250",
            help: "when the one-shot job runs",
        },
        ParamSpec {
            name: "cancel_at_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "1000",
            help: "when every job is cancelled",
        },
    ],
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
    source: include_str!("scheduler.rs"),
    source_file: file!(),
};

impl LegacyDemo for Scheduler {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let cfg = Config {
            interval: params.ms("interval_ms"),
            job: params.ms("job_ms"),
            once_delay: params.ms("once_delay_ms"),
            cancel_at: params.ms("cancel_at_ms"),
        };
        async move {
            let runs = RunLog::new(Instant::now());
            schedule(&ctx, variant, cfg, &runs).await;
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

// region:demo
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep, sleep_until};

#[derive(Clone, Copy)]
struct Config {
    interval: Duration,
    job: Duration,
    once_delay: Duration,
    cancel_at: Duration,
}

/// One run of a job: `job` of (async) work.
async fn job(ctx: &Ctx, cfg: Config, runs: &RunLog) {
    let n = runs.started();
    ctx.mark(format!("run {n}"));
    sleep(cfg.job).await;
}

/// Fixed rate: run k is due at start + k * interval, however long the runs take.
async fn fixed_rate(ctx: Ctx, cfg: Config, runs: RunLog) -> Ended {
    let mut ticks = interval(cfg.interval); // the first tick is due at once
    // A run longer than the interval makes ticks late; Burst fires the missed ones at once to
    // catch up with the grid.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    loop {
        ticks.tick().await;
        job(&ctx, cfg, &runs).await;
    }
}

/// Fixed delay: wait `interval` after each run ends, so every run adds `job` of drift.
async fn fixed_delay(ctx: Ctx, cfg: Config, runs: RunLog) -> Ended {
    loop {
        job(&ctx, cfg, &runs).await;
        sleep(cfg.interval).await;
    }
}

/// A one-shot job: once, after `once_delay`.
async fn once(ctx: Ctx, cfg: Config) -> Ended {
    sleep(cfg.once_delay).await;
    ctx.mark("once");
    sleep(cfg.job).await;
    Ended::ok("ran once")
}

/// Cancel every task, then wait until each has really stopped: abort only asks, and a task
/// stops at its next await. After this returns none of them can run again.
async fn cancel_all(tasks: Vec<JoinHandle<Ended>>) {
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await; // Err(cancelled) for the ones the abort stopped
    }
}

async fn schedule(ctx: &Ctx, variant: &str, cfg: Config, runs: &RunLog) {
    let start = Instant::now();
    let recurring = if variant == "fixed-rate" {
        ctx.spawn("recurring", fixed_rate(ctx.clone(), cfg, runs.clone()))
    } else {
        ctx.spawn("recurring", fixed_delay(ctx.clone(), cfg, runs.clone()))
    };
    let once = ctx.spawn("once", once(ctx.clone(), cfg));
    sleep_until(start + cfg.cancel_at).await;
    ctx.mark("cancel all");
    cancel_all(vec![recurring, once]).await;
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{RunRequest, run_blocking};
    use crate::demo::timeline::Outcome;
    use crate::demo::{Clock, RunReport, VariantRun};

    fn run(sets: &[&str]) -> RunReport {
        let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        let variants = vec!["fixed-rate".to_owned(), "fixed-delay".to_owned()];
        let req = RunRequest::build("scheduler", &variants, &sets, Clock::Virtual).unwrap();
        let report = run_blocking(req).unwrap();
        for r in &report.runs {
            assert_eq!(r.error, None);
            assert_eq!(r.alive_after, 0);
        }
        report
    }

    /// The recurring job's run starts, from its `run k` marks.
    fn starts(run: &VariantRun) -> Vec<f64> {
        run.timeline
            .marks
            .iter()
            .filter(|m| m.label.starts_with("run "))
            .map(|m| m.t_ms)
            .collect()
    }

    fn mark_at(run: &VariantRun, label: &str) -> Vec<f64> {
        let marks = run.timeline.marks.iter().filter(|m| m.label == label);
        marks.map(|m| m.t_ms).collect()
    }

    /// Everything the spec says, for one setting.
    fn check(sets: &[&str], interval: u64, job: u64, once_at: u64, cancel_at: u64) {
        let report = run(sets);
        let ceil = |a: u64, b: u64| a.div_ceil(b);

        let rate = report.run("fixed-rate").unwrap();
        let n = ceil(cancel_at, interval);
        let grid: Vec<f64> = (0..n).map(|k| (k * interval) as f64).collect();
        let got: Vec<f64> = starts(rate)
            .into_iter()
            .filter(|&t| t < cancel_at as f64)
            .collect();
        assert_eq!(got, grid, "fixed-rate starts");
        assert_eq!(rate.timeline.metric("recurring_runs"), Some(n as f64));
        assert_eq!(rate.timeline.metric("drift_ms"), Some(0.0));

        let delay = report.run("fixed-delay").unwrap();
        let n = ceil(cancel_at, interval + job);
        let drifting: Vec<f64> = (0..n).map(|k| (k * (interval + job)) as f64).collect();
        assert_eq!(starts(delay), drifting, "fixed-delay starts");
        assert_eq!(delay.timeline.metric("recurring_runs"), Some(n as f64));
        let drift = (n - 1) * (interval + job) - (n - 1) * interval;
        assert_eq!(delay.timeline.metric("drift_ms"), Some(drift as f64));

        for r in [rate, delay] {
            assert_eq!(r.total_ms, cancel_at as f64, "{}", r.variant);
            assert_eq!(mark_at(r, "cancel all"), [cancel_at as f64]);
            let recurring = r.timeline.task("recurring").unwrap();
            assert_eq!(recurring.outcome, Outcome::Cancelled);
            assert_eq!(recurring.finished_ms, Some(cancel_at as f64));
            let once = r.timeline.task("once").unwrap();
            if once_at + job <= cancel_at {
                assert_eq!(mark_at(r, "once"), [once_at as f64]);
                assert_eq!(once.outcome, Outcome::Ok);
                assert_eq!(once.finished_ms, Some((once_at + job) as f64));
            } else {
                assert_eq!(once.outcome, Outcome::Cancelled);
                assert_eq!(once.finished_ms, Some(cancel_at as f64));
            }
        }
    }

    #[test]
    fn defaults_follow_the_spec_formulas() {
        // fixed-rate: ceil(1000 / 100) = 10 runs; fixed-delay: ceil(1000 / 130) = 8 runs,
        // the last at 910 ms instead of 700 ms: 210 ms of drift.
        check(&[], 100, 30, 250, 1000);
        let report = run(&[]);
        let delay = report.run("fixed-delay").unwrap();
        assert_eq!(delay.timeline.metric("recurring_runs"), Some(8.0));
        assert_eq!(delay.timeline.metric("drift_ms"), Some(210.0));
    }

    #[test]
    fn other_settings_follow_the_spec_formulas() {
        check(
            &[
                "interval_ms=70",
                "job_ms=50",
                "once_delay_ms=400",
                "cancel_at_ms=430",
            ],
            70,
            50,
            400,
            430,
        );
        check(
            &[
                "interval_ms=250",
                "job_ms=0",
                "once_delay_ms=0",
                "cancel_at_ms=999",
            ],
            250,
            0,
            0,
            999,
        );
    }

    #[test]
    fn cancel_before_the_first_tick_runs_nothing() {
        let report = run(&["cancel_at_ms=0"]);
        for r in &report.runs {
            assert_eq!(r.timeline.metric("recurring_runs"), Some(0.0));
            assert_eq!(r.timeline.metric("drift_ms"), Some(0.0));
            assert_eq!(r.total_ms, 0.0);
        }
    }

    #[test]
    fn burst_catches_up_after_a_long_run() {
        // Each run takes 250 ms on a 100 ms grid: the missed ticks fire at once, back to back.
        let report = run(&["interval_ms=100", "job_ms=250", "cancel_at_ms=1000"]);
        let rate = report.run("fixed-rate").unwrap();
        assert_eq!(starts(rate), [0.0, 250.0, 500.0, 750.0]);
        assert_eq!(rate.timeline.metric("recurring_runs"), Some(4.0));
        assert_eq!(rate.timeline.metric("drift_ms"), Some(450.0));
    }
}
