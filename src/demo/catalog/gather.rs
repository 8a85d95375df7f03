//! Q1/Q5: the same awaits one after another, then all at once.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};

pub struct Gather;

variants! {
    pub enum Variant {
        Sequential => VariantSpec::single(
            "sequential",
            "await each request before starting the next",
        ),
        JoinAll => VariantSpec::single(
            "join-all",
            "futures::future::join_all: all polled in one task",
        ),
        JoinSet => VariantSpec::single(
            "join-set",
            "tokio::task::JoinSet: each request spawned as a task",
        ),
    }
}

params! {
    pub struct Config {
        latencies_ms: Vec<Duration> = MsList(1..=100_000, 0..=60_000), "100,200,300",
            "how long each request waits, in order";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "gather",
    title: "Sequential awaits vs gather",
    about: "Each request waits its latency. Awaited one by one the waits add up; \
            joined, they overlap and the total is the longest one.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Sequential.name(), Variant::JoinAll.name()],
    params: Config::PARAMS,
    metrics: &[("max_in_flight", "most requests waiting at the same time")],
    source: include_str!("gather/shown.rs"),
    source_file: "src/demo/catalog/gather/shown.rs",
};

impl DemoProgram for Gather {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            let in_flight = ctx.gauge("in_flight");
            let latencies = cfg.latencies_ms;
            match variant {
                Variant::Sequential => shown::sequential(&ctx, &in_flight, latencies).await,
                Variant::JoinAll => shown::join_all(&ctx, &in_flight, latencies).await,
                Variant::JoinSet => shown::join_set(&ctx, &in_flight, latencies).await,
            }
            ctx.metric("max_in_flight", in_flight.max());
        }
        .boxed()
    }
}
