use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, sleep};

use crate::demo::{Ctx, Ended};

#[derive(Clone, Copy)]
pub struct Config {
    pub tick: Duration,
    pub heavy: Duration,
    pub threshold: Duration,
    pub run: Duration,
}

/// Sleep `tick` in a loop; the lag is how much later than asked each wake-up came. Nothing
/// else can make a timer late on an idle runtime: lag means something held the thread.
async fn monitor(ctx: Ctx, cfg: Config, second_tick: Arc<Notify>) -> Ended {
    let start = Instant::now();
    let (mut ticks, mut flagged, mut max_lag) = (0_u64, 0_u64, Duration::ZERO);
    while start.elapsed() < cfg.run {
        let expected = Instant::now() + cfg.tick;
        sleep(cfg.tick).await;
        let lag = Instant::now().saturating_duration_since(expected);
        ticks += 1;
        max_lag = max_lag.max(lag);
        ctx.series("lag_ms", lag.as_secs_f64() * 1000.0);
        if lag > cfg.threshold {
            flagged += 1;
            ctx.mark(format!("tick {ticks}: {} ms late", lag.as_millis()));
        }
        if ticks == 2 {
            second_tick.notify_one(); // let the heavy task loose
        }
    }
    ctx.metric("max_lag_ms", max_lag.as_millis() as u64);
    ctx.metric("flagged", flagged);
    ctx.metric("ticks", ticks);
    Ended::ok(format!("{ticks} ticks, {flagged} flagged"))
}

/// Holds the thread (CPU work, a blocking call): no other task on this runtime can run,
/// including the monitor whose timer is already due.
async fn heavy(ctx: Ctx, cfg: Config, second_tick: Arc<Notify>) -> Ended {
    second_tick.notified().await;
    ctx.mark("holding the thread");
    ctx.cpu_work(cfg.heavy);
    Ended::ok(format!("held the thread {} ms", cfg.heavy.as_millis()))
}

pub async fn watch_the_loop(ctx: &Ctx, cfg: Config) {
    let second_tick = Arc::new(Notify::new());
    let heavy = ctx.spawn("heavy", heavy(ctx.clone(), cfg, Arc::clone(&second_tick)));
    let monitor = ctx.spawn("monitor", monitor(ctx.clone(), cfg, second_tick));
    let _ = monitor.await;
    // A run too short for a 2nd tick never lets the heavy task go: stop it.
    heavy.abort();
    let _ = heavy.await;
}
