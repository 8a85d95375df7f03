//! Q2: one thread runs many tasks by switching at their awaits; only worker threads run them at once.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Clock, Ctx, DemoSpec, Ended, Flavor, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec,
};

pub struct EventLoop;

static SPEC: DemoSpec = DemoSpec {
    id: "event-loop",
    title: "The event loop: one thread, many tasks",
    about: "Each task holds the thread for some CPU work, then awaits a sleep. On one thread only \
            one task runs at any instant and the awaits are where the loop switches; with worker \
            threads several tasks run at once.",
    variants: &[
        VariantSpec::single(
            "current-thread",
            "a current-thread runtime: one thread takes turns running every task",
        ),
        VariantSpec {
            name: "multi-thread",
            help: "a multi-thread runtime with `workers` worker threads (real clock only)",
            clocks: &[Clock::Real],
            flavor: Flavor::MultiThread,
            workers_param: Some("workers"),
        },
    ],
    default_variants: &["current-thread"],
    params: &[
        ParamSpec {
            name: "tasks",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "3",
            help: "how many tasks run the same loop",
        },
        ParamSpec {
            name: "steps",
            kind: ParamKind::Int { min: 1, max: 100 },
            default: "3",
            help: "rounds of work-then-wait each task does",
        },
        ParamSpec {
            name: "work_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "20",
            help: "CPU work per step; it holds the thread (no await inside)",
        },
        ParamSpec {
            name: "wait_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "50",
            help: "the sleep each task awaits after its work, giving the thread back",
        },
        ParamSpec {
            name: "workers",
            kind: ParamKind::Int { min: 1, max: 64 },
            default: "2",
            help: "worker threads of the multi-thread variant",
        },
    ],
    metrics: &[(
        "max_running",
        "most tasks holding a thread (doing CPU work) at the same instant",
    )],
    source: include_str!("event_loop.rs"),
    source_file: file!(),
};

impl LegacyDemo for EventLoop {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        // Both variants run the same program: only the runtime under it differs.
        let tasks = params.count("tasks");
        let steps = params.count("steps");
        let work = params.ms("work_ms");
        let wait = params.ms("wait_ms");
        async move {
            let running = ctx.gauge("running");
            run_tasks(&ctx, &running, tasks, steps, work, wait).await;
            ctx.metric("max_running", running.max());
        }
        .boxed()
    }
}

// region:demo
use std::time::Duration;

use tokio::task::JoinSet;

use crate::demo::ctx::Gauge;

/// One task: `steps` rounds of CPU work that holds the thread, then an await that gives it back.
async fn worker(ctx: Ctx, running: Gauge, steps: usize, work: Duration, wait: Duration) -> Ended {
    for step in 1..=steps {
        // No await in here: until the work is done, nothing else runs on this thread.
        running.enter();
        ctx.cpu_work(work);
        running.leave();
        ctx.mark(format!("step {step} done: await"));
        // The await is where this task hands the thread back to the event loop,
        // which runs whichever task is ready next.
        tokio::time::sleep(wait).await;
    }
    Ended::ok(format!("{steps} steps"))
}

async fn run_tasks(
    ctx: &Ctx,
    running: &Gauge,
    tasks: usize,
    steps: usize,
    work: Duration,
    wait: Duration,
) {
    let mut set = JoinSet::new();
    for i in 1..=tasks {
        let task = worker(ctx.clone(), running.clone(), steps, work, wait);
        ctx.spawn_in(&mut set, format!("task {i}"), task);
    }
    // Spawned tasks start once main awaits here and gives the thread up.
    while set.join_next().await.is_some() {}
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunReport, RunRequest};
    use crate::demo::{Clock, Outcome};

    fn run(variants: &[&str], sets: &[&str], clock: Clock) -> RunReport {
        let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("event-loop", &variants, &sets, clock).unwrap();
        runner::run_blocking(req).unwrap()
    }

    /// Step `s` (1-based) of task `k` (1-based) starts its work on one thread, when every wait
    /// is long enough for the other tasks' work to fit in it (wait >= (tasks - 1) * work).
    fn check_staircase(
        report: &RunReport,
        tasks: usize,
        steps: usize,
        work: f64,
        wait: f64,
    ) -> f64 {
        let r = report.run("current-thread").unwrap();
        assert_eq!(r.alive_after, 0);
        assert_eq!(r.error, None);
        let tl = &r.timeline;
        for k in 1..=tasks {
            let t = tl.task(&format!("task {k}")).unwrap();
            assert_eq!(t.outcome, Outcome::Ok);
            // Work polls: the ones that last (with work_ms > 0).
            let work_starts: Vec<f64> = t
                .polls
                .iter()
                .filter(|(a, b)| b - a > 1e-9)
                .map(|(a, _)| *a)
                .collect();
            let expected: Vec<f64> = (1..=steps)
                .map(|s| (k - 1) as f64 * work + (s - 1) as f64 * (work + wait))
                .collect();
            assert_eq!(work_starts, expected, "task {k}");
            let end = (k - 1) as f64 * work + steps as f64 * (work + wait);
            assert_eq!(t.finished_ms, Some(end), "task {k}");
        }
        assert_eq!(tl.metric("max_running"), Some(1.0));
        r.total_ms
    }

    #[test]
    fn defaults_take_turns_on_one_thread() {
        let report = run(&[], &[], Clock::Virtual);
        assert_eq!(report.runs.len(), 1);
        let total = check_staircase(&report, 3, 3, 20.0, 50.0);
        // steps * (work + wait) + (tasks - 1) * work
        assert_eq!(total, 250.0);
        let tl = &report.runs[0].timeline;
        assert_eq!(tl.marks.len(), 9);
        // Never two tasks doing work at once.
        for t in tl.event_times() {
            let busy = tl
                .tasks
                .iter()
                .filter(|task| task.name.starts_with("task ") && task.is_running_at(t))
                .count();
            assert!(busy <= 1, "{busy} tasks running at {t}");
        }
    }

    #[test]
    fn other_settings_keep_one_task_running() {
        let report = run(
            &["current-thread"],
            &["tasks=4", "steps=2", "work_ms=10", "wait_ms=100"],
            Clock::Virtual,
        );
        let total = check_staircase(&report, 4, 2, 10.0, 100.0);
        assert_eq!(total, 2.0 * 110.0 + 3.0 * 10.0);
    }

    #[test]
    fn a_busy_thread_still_runs_one_task_at_a_time() {
        // The waits are too short for the others' work: tasks queue for the thread.
        let report = run(
            &[],
            &["tasks=5", "steps=4", "work_ms=30", "wait_ms=10"],
            Clock::Virtual,
        );
        let r = &report.runs[0];
        assert_eq!(r.alive_after, 0);
        assert_eq!(r.timeline.metric("max_running"), Some(1.0));
        // The thread is never idle: all the work back to back, then the last task's last wait.
        assert_eq!(r.total_ms, 5.0 * 4.0 * 30.0 + 10.0);
    }

    #[test]
    fn multi_thread_runs_tasks_at_once_on_the_real_clock() {
        let report = run(
            &["multi-thread"],
            &[
                "tasks=3",
                "steps=2",
                "work_ms=60",
                "wait_ms=10",
                "workers=2",
            ],
            Clock::Real,
        );
        let r = report.run("multi-thread").unwrap();
        assert_eq!(r.error, None);
        // Every task the demo started ran to its end: nothing leaked.
        for k in 1..=3 {
            let t = r.timeline.task(&format!("task {k}")).unwrap();
            assert_eq!(t.outcome, Outcome::Ok, "task {k}");
        }
        // The runner waits for workers to release finished tasks before counting.
        assert_eq!(r.alive_after, 0);
        // Only worker threads run tasks, and both of them do.
        assert_eq!(r.timeline.metric("max_running"), Some(2.0));
        // 6 work slices of 60 ms on 2 threads: about 180 ms, far from the 360 ms one thread takes.
        assert!(r.total_ms >= 175.0 && r.total_ms < 340.0, "{}", r.total_ms);
    }

    #[test]
    fn multi_thread_is_real_clock_only() {
        let err = RunRequest::build(
            "event-loop",
            &["multi-thread".to_owned()],
            &[],
            Clock::Virtual,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("does not run on the virtual clock"), "{err}");
    }
}
