//! Q5/Q6/Q9/Q10/C2: a semaphore bounds how many tasks work at once; the rest queue, first come
//! first served.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};

pub struct SemaphoreDemo;

variants! {
    pub enum Variant {
        Fifo => VariantSpec::single(
            "fifo",
            "tokio::sync::Semaphore: permits go to the waiters in the order they asked",
        ),
    }
}

params! {
    pub struct Config {
        tasks: usize = Int(1..=1000), "8", "how many tasks start at t = 0";
        permits: usize = Int(1..=1000), "3", "how many tasks may work at the same time";
        work_ms: Duration = Ms(0..=60_000), "100",
            "how long each task works while holding its permit";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "semaphore",
    title: "Bounding concurrency with a semaphore",
    about: "All tasks start at once and each needs one permit to work. Only `permits` work at a \
            time; the others wait in line and get a permit, in the order they asked, as soon as \
            one is handed back.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Fifo.name()],
    params: Config::PARAMS,
    metrics: &[("max_in_flight", "most tasks working at the same time")],
    source: include_str!("semaphore/shown.rs"),
    source_file: "src/demo/catalog/semaphore/shown.rs",
};

impl DemoProgram for SemaphoreDemo {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            let waiting = ctx.gauge("waiting");
            let in_flight = ctx.gauge("in_flight");
            match variant {
                Variant::Fifo => {
                    shown::bounded(
                        &ctx,
                        &waiting,
                        &in_flight,
                        cfg.tasks,
                        cfg.permits,
                        cfg.work_ms,
                    )
                    .await;
                }
            }
            ctx.metric("max_in_flight", in_flight.max());
        }
        .boxed()
    }
}
