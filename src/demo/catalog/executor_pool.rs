//! Lesson B5: more blocking jobs than the blocking pool has threads; the extra ones wait for a
//! thread, while the runtime's own thread stays free for async tasks.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};

pub struct ExecutorPool;

/// Both variants run the same program; only the size of the blocking pool under it differs.
const fn pool(name: &'static str, help: &'static str, threads: &'static str) -> VariantSpec {
    VariantSpec {
        blocking_threads_param: Some(threads),
        ..VariantSpec::single(name, help)
    }
}

variants! {
    pub enum Variant {
        Starved => pool(
            "starved",
            "max_blocking_threads(workers): jobs beyond `workers` wait in the pool's queue",
            "workers",
        ),
        Sized => pool(
            "sized",
            "max_blocking_threads(jobs): a thread for every job, none waits",
            "jobs",
        ),
    }
}

params! {
    pub struct Config {
        jobs: usize = Int(1..=64), "6", "blocking jobs handed to the pool at once";
        /// The runner reads it (by name, `blocking_threads_param`) to build the runtime.
        #[allow(dead_code)]
        workers: usize = Int(1..=64), "2", "threads of the starved variant's blocking pool";
        job_ms: Duration = Ms(0..=60_000), "100", "how long each job holds its thread";
        tick_ms: Duration = Ms(1..=60_000), "40",
            "the period of an async ticker that runs on the runtime's thread meanwhile";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "executor-pool",
    title: "A starved thread pool",
    about: "jobs blocking calls of job_ms go to tokio's blocking pool at once. With \
            max_blocking_threads(workers), the jobs beyond workers wait in its queue for a free \
            thread, round after round; an async ticker keeps its period all along, since only \
            the pool is full, not the runtime's thread.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Starved.name(), Variant::Sized.name()],
    params: Config::PARAMS,
    metrics: &[
        (
            "last_start_ms",
            "when the last job got a thread (0 when the pool has a thread for every job)",
        ),
        (
            "max_tick_gap_ms",
            "longest time between two ticks of the async ticker (tick_ms: it never waits)",
        ),
    ],
    source: include_str!("executor_pool/shown.rs"),
    source_file: "src/demo/catalog/executor_pool/shown.rs",
};

impl DemoProgram for ExecutorPool {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        // The variants differ in the runtime the runner builds for them, not in the program.
        match variant {
            Variant::Starved | Variant::Sized => {}
        }
        shown::main(ctx, cfg.jobs, cfg.job_ms, cfg.tick_ms).boxed()
    }
}
