//! Q4: a future awaited later waits for main; a spawned task runs beside it and can be aborted.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct SpawnVsAwait;

static SPEC: DemoSpec = DemoSpec {
    id: "spawn-vs-await",
    title: "Spawn vs await",
    about: "Main has its own work and a child to run. A child future only runs when main awaits \
            it, so the times add up; a spawned child runs beside main at once; a spawned child \
            can also be aborted.",
    variants: &[
        VariantSpec::single(
            "await",
            "create the child future first, await it after main's own work",
        ),
        VariantSpec::single(
            "spawn",
            "spawn the child first, do main's work, then await its JoinHandle",
        ),
        VariantSpec::single("abort", "spawn the child, abort it after abort_after_ms"),
    ],
    default_variants: &["await", "spawn", "abort"],
    params: &[
        ParamSpec {
            name: "work_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "300",
            help: "how long the child works",
        },
        ParamSpec {
            name: "main_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "100",
            help: "how long main's own work takes (await and spawn variants)",
        },
        ParamSpec {
            name: "abort_after_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "150",
            help: "when main aborts the child (abort variant)",
        },
    ],
    metrics: &[],
    source: include_str!("spawn_vs_await.rs"),
    source_file: file!(),
};

impl LegacyDemo for SpawnVsAwait {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let work = params.ms("work_ms");
        let main_work = params.ms("main_ms");
        let abort_after = params.ms("abort_after_ms");
        async move {
            match variant {
                "await" => await_later(&ctx, work, main_work).await,
                "spawn" => spawn(&ctx, work, main_work).await,
                _ => spawn_then_abort(&ctx, work, abort_after).await,
            }
        }
        .boxed()
    }
}

// region:demo
use std::time::Duration;

/// The child's job: `work` of waiting (a timer stands in for I/O).
async fn child_work(ctx: Ctx, work: Duration) -> Ended {
    ctx.mark("child starts");
    tokio::time::sleep(work).await;
    Ended::ok(format!("{} ms of work", work.as_millis()))
}

async fn await_later(ctx: &Ctx, work: Duration, main_work: Duration) {
    // Only a description of the work: nothing runs until someone polls it.
    let child = ctx.instrument("child", child_work(ctx.clone(), work));
    tokio::time::sleep(main_work).await; // main's own work
    ctx.mark("main's work done: await the child");
    child.await; // the child starts only now: main_ms + work_ms in all
}

async fn spawn(ctx: &Ctx, work: Duration, main_work: Duration) {
    // Spawning hands the child to the runtime: it starts as soon as main awaits anything.
    let child = ctx.spawn("child", child_work(ctx.clone(), work));
    tokio::time::sleep(main_work).await; // main's own work, while the child runs
    ctx.mark("main's work done: join the child");
    let _ = child.await; // max(main_ms, work_ms) in all
}

async fn spawn_then_abort(ctx: &Ctx, work: Duration, abort_after: Duration) {
    let child = ctx.spawn("child", child_work(ctx.clone(), work));
    tokio::time::sleep(abort_after).await;
    // The runtime drops the child's future at its current await: it never resumes.
    child.abort();
    ctx.mark("abort the child");
    match child.await {
        Err(e) if e.is_cancelled() => ctx.mark("child cancelled"),
        _ => ctx.mark("child had already finished"),
    }
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunReport, RunRequest};
    use crate::demo::{Clock, Outcome};

    fn run(sets: &[&str]) -> RunReport {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("spawn-vs-await", &[], &sets, Clock::Virtual).unwrap();
        runner::run_blocking(req).unwrap()
    }

    fn check(sets: &[&str], work: f64, main: f64, abort_after: f64) {
        let report = run(sets);
        assert_eq!(report.runs.len(), 3);
        for r in &report.runs {
            assert_eq!(r.alive_after, 0, "{}", r.variant);
            assert_eq!(r.error, None, "{}", r.variant);
            assert_eq!(r.timeline.task("child").unwrap().spawned_ms, 0.0);
        }

        let r = report.run("await").unwrap();
        let child = r.timeline.task("child").unwrap();
        assert_eq!(child.polls.first().map(|p| p.0), Some(main));
        assert_eq!(child.finished_ms, Some(main + work));
        assert_eq!(child.outcome, Outcome::Ok);
        assert_eq!(r.total_ms, main + work);
        assert_eq!(r.timeline.count(Outcome::Cancelled), 0);

        let r = report.run("spawn").unwrap();
        let child = r.timeline.task("child").unwrap();
        assert_eq!(child.polls.first().map(|p| p.0), Some(0.0));
        assert_eq!(child.finished_ms, Some(work));
        assert_eq!(child.outcome, Outcome::Ok);
        assert_eq!(r.total_ms, main.max(work));
        assert_eq!(r.timeline.count(Outcome::Cancelled), 0);

        let r = report.run("abort").unwrap();
        let child = r.timeline.task("child").unwrap();
        assert_eq!(child.polls.first().map(|p| p.0), Some(0.0));
        assert_eq!(r.total_ms, abort_after);
        if abort_after < work {
            assert_eq!(child.outcome, Outcome::Cancelled);
            assert_eq!(child.finished_ms, Some(abort_after));
            assert_eq!(r.timeline.count(Outcome::Cancelled), 1);
        } else {
            assert_eq!(child.outcome, Outcome::Ok);
            assert_eq!(child.finished_ms, Some(work));
            assert_eq!(r.timeline.count(Outcome::Cancelled), 0);
        }
    }

    #[test]
    fn defaults() {
        check(&[], 300.0, 100.0, 150.0);
    }

    #[test]
    fn other_settings() {
        // main longer than the child: spawn takes main's time.
        check(
            &["work_ms=200", "main_ms=500", "abort_after_ms=50"],
            200.0,
            500.0,
            50.0,
        );
        // The abort comes after the child finished: nothing is cancelled.
        check(
            &["work_ms=100", "main_ms=100", "abort_after_ms=400"],
            100.0,
            100.0,
            400.0,
        );
    }
}
