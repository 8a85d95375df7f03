//! Q3: creating a future runs none of its code; it starts when first polled, or never.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct LazyFutures;

static SPEC: DemoSpec = DemoSpec {
    id: "lazy-futures",
    title: "Futures are lazy",
    about: "Three futures are created at the same instant. The one awaited at once runs at once, \
            the one awaited later starts only when awaited, and the one never awaited never runs: \
            it is dropped without a single poll.",
    variants: &[VariantSpec::single(
        "lazy",
        "create three futures, await one at once, one later, and drop the third",
    )],
    default_variants: &["lazy"],
    params: &[
        ParamSpec {
            name: "delay_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "200",
            help: "when (after the start) main awaits the second future",
        },
        ParamSpec {
            name: "work_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "100",
            help: "how long each future works once it is polled",
        },
    ],
    metrics: &[(
        "never_awaited_polls",
        "how many times the never-awaited future was polled (always 0)",
    )],
    source: include_str!("lazy_futures.rs"),
    source_file: file!(),
};

impl LegacyDemo for LazyFutures {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let delay = params.ms("delay_ms");
        let work_time = params.ms("work_ms");
        async move {
            lazy(&ctx, delay, work_time).await;
            // The recorder saw every poll of every lane: count the never-awaited one's.
            let polls = ctx.recorder().with_snapshot(|s| {
                s.task("never awaited")
                    .map_or(0, |t| u64::try_from(t.polls.len()).unwrap_or(u64::MAX))
            });
            ctx.metric("never_awaited_polls", polls);
        }
        .boxed()
    }
}

// region:demo
use std::time::Duration;

use tokio::time::Instant;

/// Some work. Its body, this first line included, runs only when the future is polled.
async fn work(ctx: Ctx, duration: Duration) -> Ended {
    ctx.mark("first poll: the body starts");
    tokio::time::sleep(duration).await;
    Ended::ok(format!("{} ms of work", duration.as_millis()))
}

async fn lazy(ctx: &Ctx, delay: Duration, work_time: Duration) {
    let start = Instant::now();
    // Calling an async fn only builds a future: none of the three has started.
    let at_once = ctx.instrument("awaited at once", work(ctx.clone(), work_time));
    let later = ctx.instrument("awaited later", work(ctx.clone(), work_time));
    let never = ctx.instrument("never awaited", work(ctx.clone(), work_time));
    ctx.mark("three futures created");

    // Awaiting polls it: it runs now, from 0 to work_ms.
    at_once.await;
    // Main waits until delay_ms after the start; `later` sits there, not running.
    tokio::time::sleep_until(start + delay).await;
    // Its first poll is now: it runs from delay_ms to delay_ms + work_ms.
    later.await;
    // Dropped without ever being polled: its body never ran at all.
    drop(never);
    ctx.mark("never-awaited future dropped");
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunReport, RunRequest};
    use crate::demo::{Clock, Outcome};

    fn run(sets: &[&str]) -> RunReport {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("lazy-futures", &[], &sets, Clock::Virtual).unwrap();
        runner::run_blocking(req).unwrap()
    }

    fn check(sets: &[&str], delay: f64, work: f64) {
        let report = run(sets);
        let r = report.run("lazy").unwrap();
        assert_eq!(r.alive_after, 0);
        assert_eq!(r.error, None);
        let tl = &r.timeline;
        // All three exist from t = 0.
        for name in ["awaited at once", "awaited later", "never awaited"] {
            assert_eq!(tl.task(name).unwrap().spawned_ms, 0.0, "{name}");
        }
        let at_once = tl.task("awaited at once").unwrap();
        assert_eq!(at_once.polls.first().map(|p| p.0), Some(0.0));
        assert_eq!(at_once.finished_ms, Some(work));
        assert_eq!(at_once.outcome, Outcome::Ok);
        let later = tl.task("awaited later").unwrap();
        assert_eq!(later.polls.first().map(|p| p.0), Some(delay));
        assert_eq!(later.finished_ms, Some(delay + work));
        assert_eq!(later.outcome, Outcome::Ok);
        let never = tl.task("never awaited").unwrap();
        assert!(never.polls.is_empty());
        assert_eq!(never.outcome, Outcome::Cancelled);
        assert_eq!(never.finished_ms, Some(delay + work));
        assert_eq!(r.total_ms, delay + work);
        assert_eq!(tl.count(Outcome::Cancelled), 1);
        assert_eq!(tl.metric("never_awaited_polls"), Some(0.0));
        // The body's first line ran exactly twice: once per awaited future.
        let starts: Vec<f64> = tl
            .marks
            .iter()
            .filter(|m| m.label.starts_with("first poll"))
            .map(|m| m.t_ms)
            .collect();
        assert_eq!(starts, vec![0.0, delay]);
    }

    #[test]
    fn defaults() {
        check(&[], 200.0, 100.0);
    }

    #[test]
    fn other_settings() {
        check(&["delay_ms=500", "work_ms=250"], 500.0, 250.0);
        check(&["delay_ms=40", "work_ms=40"], 40.0, 40.0);
    }

    #[test]
    fn a_short_delay_waits_for_the_first_await() {
        // delay_ms < work_ms: main is still awaiting the first future when the delay is up.
        let report = run(&["delay_ms=50", "work_ms=100"]);
        let r = &report.runs[0];
        assert_eq!(r.alive_after, 0);
        let later = r.timeline.task("awaited later").unwrap();
        assert_eq!(later.polls.first().map(|p| p.0), Some(100.0));
        assert_eq!(r.total_ms, 200.0);
    }
}
