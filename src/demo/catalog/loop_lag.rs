//! Q16: measuring event-loop lag. A monitor asks to wake every `tick_ms` and notes how late it
//! actually woke; a task that holds the thread makes every other task late by that much.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct LoopLag;

static SPEC: DemoSpec = DemoSpec {
    id: "loop-lag",
    title: "Event-loop lag monitor",
    about: "A monitor sleeps tick_ms in a loop and records how late each wake-up is. A heavy \
            task holding the thread for heavy_ms delays the next wake-up by heavy_ms - tick_ms; \
            ticks later than threshold_ms are flagged.",
    variants: &[VariantSpec::single(
        "monitor",
        "a lag monitor and a heavy task on one current-thread runtime",
    )],
    default_variants: &["monitor"],
    params: &[
        ParamSpec {
            name: "tick_ms",
            kind: ParamKind::Ms {
                min: 1,
                max: 60_000,
            },
            default: "50",
            help: "how long the monitor sleeps between measurements",
        },
        ParamSpec {
            name: "heavy_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "200",
            help: "how long the heavy task holds the thread, right after the 2nd tick",
        },
        ParamSpec {
            name: "threshold_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "20",
            help: "a tick whose lag is over this is flagged",
        },
        ParamSpec {
            name: "run_ms",
            kind: ParamKind::Ms {
                min: 1,
                max: 60_000,
            },
            default: "500",
            help: "how long the monitor keeps measuring",
        },
    ],
    metrics: &[
        ("max_lag_ms", "the latest any wake-up was, in whole ms"),
        ("flagged", "ticks whose lag was over threshold_ms"),
        ("ticks", "measurements the monitor made"),
    ],
    source: include_str!("loop_lag.rs"),
    source_file: file!(),
};

impl LegacyDemo for LoopLag {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let cfg = Config {
            tick: params.ms("tick_ms"),
            heavy: params.ms("heavy_ms"),
            threshold: params.ms("threshold_ms"),
            run: params.ms("run_ms"),
        };
        async move { watch_the_loop(&ctx, cfg).await }.boxed()
    }
}

// region:demo
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, sleep};

#[derive(Clone, Copy)]
struct Config {
    tick: Duration,
    heavy: Duration,
    threshold: Duration,
    run: Duration,
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

async fn watch_the_loop(ctx: &Ctx, cfg: Config) {
    let second_tick = Arc::new(Notify::new());
    let heavy = ctx.spawn("heavy", heavy(ctx.clone(), cfg, Arc::clone(&second_tick)));
    let monitor = ctx.spawn("monitor", monitor(ctx.clone(), cfg, second_tick));
    let _ = monitor.await;
    // A run too short for a 2nd tick never lets the heavy task go: stop it.
    heavy.abort();
    let _ = heavy.await;
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{RunRequest, run_blocking};
    use crate::demo::timeline::{Outcome, SeriesValue};
    use crate::demo::{Clock, VariantRun};

    fn run(sets: &[&str]) -> VariantRun {
        let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        let req = RunRequest::build("loop-lag", &[], &sets, Clock::Virtual).unwrap();
        let report = run_blocking(req).unwrap();
        let run = report.run("monitor").unwrap().clone();
        assert_eq!(run.error, None);
        assert_eq!(run.alive_after, 0);
        run
    }

    fn lags(run: &VariantRun) -> Vec<(f64, f64)> {
        run.timeline.series["lag_ms"]
            .iter()
            .map(|(t, v)| match v {
                SeriesValue::Num(n) => (*t, *n),
                SeriesValue::Text(_) => (*t, f64::NAN),
            })
            .collect()
    }

    fn flagged_marks(run: &VariantRun) -> Vec<(f64, String)> {
        run.timeline
            .marks
            .iter()
            .filter(|m| m.label.starts_with("tick"))
            .map(|m| (m.t_ms, m.label.clone()))
            .collect()
    }

    #[test]
    fn defaults_one_late_tick_of_heavy_minus_tick() {
        let run = run(&[]);
        // max_lag_ms = heavy_ms - tick_ms = 200 - 50; only that tick is over 20 ms.
        assert_eq!(run.timeline.metric("max_lag_ms"), Some(150.0));
        assert_eq!(run.timeline.metric("flagged"), Some(1.0));
        // Ticks at 50, 100, then 300 (due at 150), 350, 400, 450, 500.
        assert_eq!(run.timeline.metric("ticks"), Some(7.0));
        assert_eq!(lags(&run), [(50.0, 0.0), (300.0, 150.0), (350.0, 0.0)]);
        assert_eq!(
            flagged_marks(&run),
            [(300.0, "tick 3: 150 ms late".to_owned())]
        );
        let heavy = run.timeline.task("heavy").unwrap();
        assert_eq!(heavy.polls.last(), Some(&(100.0, 300.0)));
        assert_eq!(heavy.outcome, Outcome::Ok);
        assert_eq!(run.total_ms, 500.0);
    }

    #[test]
    fn a_longer_hold_and_a_higher_threshold() {
        let run = run(&[
            "tick_ms=100",
            "heavy_ms=450",
            "threshold_ms=349",
            "run_ms=1000",
        ]);
        // Ticks at 100, 200, then 650 (due at 300): lag 350 > 349.
        assert_eq!(run.timeline.metric("max_lag_ms"), Some(350.0));
        assert_eq!(run.timeline.metric("flagged"), Some(1.0));
        assert_eq!(
            flagged_marks(&run),
            [(650.0, "tick 3: 350 ms late".to_owned())]
        );
        // 650, 750, 850, 950, 1050: the loop stops once run_ms has passed.
        assert_eq!(run.timeline.metric("ticks"), Some(7.0));
        assert_eq!(run.total_ms, 1050.0);
    }

    #[test]
    fn lag_equal_to_the_threshold_is_not_flagged() {
        let at = run(&[
            "tick_ms=100",
            "heavy_ms=450",
            "threshold_ms=350",
            "run_ms=1000",
        ]);
        assert_eq!(at.timeline.metric("max_lag_ms"), Some(350.0));
        assert_eq!(at.timeline.metric("flagged"), Some(0.0));
    }

    #[test]
    fn a_hold_shorter_than_a_tick_is_not_lag() {
        let run = run(&["heavy_ms=40"]);
        assert_eq!(run.timeline.metric("max_lag_ms"), Some(0.0));
        assert_eq!(run.timeline.metric("flagged"), Some(0.0));
        assert_eq!(run.timeline.metric("ticks"), Some(10.0));
    }

    #[test]
    fn a_run_too_short_for_two_ticks_stops_the_heavy_task() {
        let short = run(&["run_ms=30"]);
        assert_eq!(
            short.timeline.task("heavy").unwrap().outcome,
            Outcome::Cancelled
        );
        assert_eq!(short.timeline.metric("ticks"), Some(1.0));
        assert_eq!(short.total_ms, 50.0);
    }
}
