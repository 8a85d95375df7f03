use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep, sleep_until};

use super::{RunLog, Variant};
use crate::demo::{Ctx, Ended};

#[derive(Clone, Copy)]
pub struct Config {
    pub interval: Duration,
    pub job: Duration,
    pub once_delay: Duration,
    pub cancel_at: Duration,
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
    // A run longer than the interval makes a tick late: it fires at once, and the grid points
    // the run overran are skipped rather than fired back to back (the default, Burst, would).
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
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

pub async fn schedule(ctx: &Ctx, variant: Variant, cfg: Config, runs: &RunLog) {
    let start = Instant::now();
    let recurring = match variant {
        Variant::FixedRate => ctx.spawn("recurring", fixed_rate(ctx.clone(), cfg, runs.clone())),
        Variant::FixedDelay => ctx.spawn("recurring", fixed_delay(ctx.clone(), cfg, runs.clone())),
    };
    let once = ctx.spawn("once", once(ctx.clone(), cfg));
    sleep_until(start + cfg.cancel_at).await;
    ctx.mark("cancel all");
    cancel_all(vec![recurring, once]).await;
}
