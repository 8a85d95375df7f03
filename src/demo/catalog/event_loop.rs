//! Q2: one thread runs many tasks by switching at their awaits; only worker threads run them at once.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Clock, Ctx, DemoProgram, DemoSpec, DemoVariant, Flavor, FromParams, VariantSpec, params,
    variants,
};

pub struct EventLoop;

variants! {
    pub enum Variant {
        CurrentThread => VariantSpec::single(
            "current-thread",
            "a current-thread runtime: one thread takes turns running every task",
        ),
        MultiThread => VariantSpec {
            name: "multi-thread",
            help: "a multi-thread runtime with `workers` worker threads (real clock only)",
            clocks: &[Clock::Real],
            flavor: Flavor::MultiThread,
            workers_param: Some("workers"),
            blocking_threads_param: None,
        },
    }
}

params! {
    pub struct Config {
        tasks: usize = Int(1..=1000), "3", "how many tasks run the same loop";
        steps: usize = Int(1..=100), "3", "rounds of work-then-wait each task does";
        work_ms: Duration = Ms(0..=60_000), "20",
            "CPU work per step; it holds the thread (no await inside)";
        wait_ms: Duration = Ms(0..=60_000), "50",
            "the sleep each task awaits after its work, giving the thread back";
        /// The runner reads it (by name, `workers_param`) to build the runtime.
        #[allow(dead_code)]
        workers: usize = Int(1..=64), "2", "worker threads of the multi-thread variant";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "event-loop",
    title: "The event loop: one thread, many tasks",
    about: "Each task holds the thread for some CPU work, then awaits a sleep. On one thread only \
            one task runs at any instant and the awaits are where the loop switches; with worker \
            threads several tasks run at once.",
    variants: Variant::SPECS,
    default_variants: &[Variant::CurrentThread.name()],
    params: Config::PARAMS,
    metrics: &[(
        "max_running",
        "most tasks holding a thread (doing CPU work) at the same instant",
    )],
    source: include_str!("event_loop/shown.rs"),
    source_file: "src/demo/catalog/event_loop/shown.rs",
};

impl DemoProgram for EventLoop {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            let running = ctx.gauge("running");
            // Both variants run the same program: only the runtime under it differs.
            match variant {
                Variant::CurrentThread | Variant::MultiThread => {
                    let (tasks, steps) = (cfg.tasks, cfg.steps);
                    shown::run_tasks(&ctx, &running, tasks, steps, cfg.work_ms, cfg.wait_ms).await;
                }
            }
            ctx.metric("max_running", running.max());
        }
        .boxed()
    }
}
