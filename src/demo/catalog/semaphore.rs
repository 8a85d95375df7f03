//! Q5/Q6/Q9/Q10/C2: a semaphore bounds how many tasks work at once; the rest queue, first come
//! first served.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, Demo, DemoSpec, Ended, ParamKind, ParamSpec, Params, VariantSpec};

pub struct SemaphoreDemo;

static SPEC: DemoSpec = DemoSpec {
    id: "semaphore",
    title: "Bounding concurrency with a semaphore",
    about: "All tasks start at once and each needs one permit to work. Only `permits` work at a \
            time; the others wait in line and get a permit, in the order they asked, as soon as \
            one is handed back.",
    variants: &[VariantSpec::single(
        "fifo",
        "tokio::sync::Semaphore: permits go to the waiters in the order they asked",
    )],
    default_variants: &["fifo"],
    params: &[
        ParamSpec {
            name: "tasks",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "8",
            help: "how many tasks start at t = 0",
        },
        ParamSpec {
            name: "permits",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "3",
            help: "how many tasks may work at the same time",
        },
        ParamSpec {
            name: "work_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "100",
            help: "how long each task works while holding its permit",
        },
    ],
    metrics: &[("max_in_flight", "most tasks working at the same time")],
    source: include_str!("semaphore.rs"),
};

impl Demo for SemaphoreDemo {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let tasks = params.count("tasks");
        let permits = params.count("permits");
        let work = params.ms("work_ms");
        async move {
            let waiting = ctx.gauge("waiting");
            let in_flight = ctx.gauge("in_flight");
            bounded(&ctx, &waiting, &in_flight, tasks, permits, work).await;
            ctx.metric("max_in_flight", in_flight.max());
        }
        .boxed()
    }
}

// region:demo
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::demo::ctx::Gauge;

async fn task(
    ctx: Ctx,
    semaphore: Arc<Semaphore>,
    waiting: Gauge,
    in_flight: Gauge,
    work: Duration,
) -> Ended {
    waiting.enter();
    // Waits while all permits are out. tokio's semaphore is fair: permits are handed to
    // waiters strictly in the order they called acquire.
    let permit = match semaphore.acquire().await {
        Ok(permit) => permit,
        Err(_closed) => return Ended::error("semaphore closed"),
    };
    waiting.leave();
    ctx.mark("permit acquired", line!());
    in_flight.enter();
    tokio::time::sleep(work).await;
    in_flight.leave();
    // Handing the permit back wakes the first task still waiting.
    drop(permit);
    Ended::ok(format!("{} ms of work", work.as_millis()))
}

async fn bounded(
    ctx: &Ctx,
    waiting: &Gauge,
    in_flight: &Gauge,
    tasks: usize,
    permits: usize,
    work: Duration,
) {
    let semaphore = Arc::new(Semaphore::new(permits));
    let mut set = JoinSet::new();
    for k in 1..=tasks {
        let t = task(
            ctx.clone(),
            Arc::clone(&semaphore),
            waiting.clone(),
            in_flight.clone(),
            work,
        );
        ctx.spawn_in(&mut set, format!("task {k}"), t);
    }
    while set.join_next().await.is_some() {}
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunRequest};
    use crate::demo::{Clock, Outcome};

    fn check(sets: &[&str], tasks: usize, permits: usize, work: f64) {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("semaphore", &[], &sets, Clock::Virtual).unwrap();
        let report = runner::run_blocking(req).unwrap();
        let r = report.run("fifo").unwrap();
        assert_eq!(r.alive_after, 0);
        assert_eq!(r.error, None);
        let tl = &r.timeline;
        // ceil(tasks / permits) * work_ms
        assert_eq!(r.total_ms, tasks.div_ceil(permits) as f64 * work);
        assert_eq!(tl.metric("max_in_flight"), Some(tasks.min(permits) as f64));
        for k in 1..=tasks {
            let t = tl.task(&format!("task {k}")).unwrap();
            assert_eq!(t.spawned_ms, 0.0, "task {k}");
            assert_eq!(t.polls.first().map(|p| p.0), Some(0.0), "task {k}");
            assert_eq!(t.outcome, Outcome::Ok, "task {k}");
            // floor((k - 1) / permits) * work_ms
            let start = ((k - 1) / permits) as f64 * work;
            let acquired: Vec<f64> = tl
                .marks
                .iter()
                .filter(|m| m.task == Some(t.id) && m.label == "permit acquired")
                .map(|m| m.t_ms)
                .collect();
            assert_eq!(acquired, vec![start], "task {k}");
            assert_eq!(t.finished_ms, Some(start + work), "task {k}");
        }
        // Grants in task order: FIFO.
        let order: Vec<u32> = tl.marks.iter().filter_map(|m| m.task).collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted);
        assert_eq!(order.len(), tasks);
    }

    #[test]
    fn defaults() {
        check(&[], 8, 3, 100.0);
    }

    #[test]
    fn other_settings() {
        check(&["tasks=10", "permits=4", "work_ms=250"], 10, 4, 250.0);
        check(&["tasks=2", "permits=5"], 2, 5, 100.0);
        check(&["tasks=6", "permits=1", "work_ms=30"], 6, 1, 30.0);
    }
}
