//! B3: a request id that follows each request through its child task and its thread, or not.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};
use shown::Carry;

pub struct RequestIds;

variants! {
    pub enum Variant {
        TaskLocal => VariantSpec::single(
            "task-local",
            "tokio::task_local! scoped per request: the spawned child and the blocking closure \
             are each given a scope with the id",
        ),
        Executor => VariantSpec::single(
            "executor",
            "the same, but the blocking closure reads the task-local itself: the blocking pool \
             has none",
        ),
        Global => VariantSpec::single(
            "global",
            "one slot (a static) that every request writes: each reads whoever wrote last",
        ),
    }
}

params! {
    pub struct Config {
        requests: usize = Int(1..=1000), "3", "how many requests the server serves";
        arrival_gap_ms: Duration = Ms(0..=60_000), "10", "time between two requests' arrivals";
        work_ms: Duration = Ms(0..=60_000), "100",
            "how long each lookup, and each request's own I/O after it, takes";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "request-ids",
    title: "Request ids across tasks and threads",
    about: "Requests arrive arrival_gap_ms apart and run at once. Each sets its id, spawns a \
            child lookup, calls a thread, then logs; every mark says which request id that code \
            saw. A task-local (a ContextVar in asyncio) keeps each request's own id; a blocking \
            thread sees none unless it is handed the id; a shared global shows every request \
            the id of the last to arrive.",
    variants: Variant::SPECS,
    default_variants: &[
        Variant::TaskLocal.name(),
        Variant::Executor.name(),
        Variant::Global.name(),
    ],
    params: Config::PARAMS,
    metrics: &[
        ("wrong_ids", "marks that saw another request's id"),
        ("missing_ids", "marks that saw no request id at all"),
    ],
    source: include_str!("request_ids/shown.rs"),
    source_file: "src/demo/catalog/request_ids/shown.rs",
};

impl DemoProgram for RequestIds {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            let carry = match variant {
                Variant::TaskLocal => Carry::TaskLocal,
                Variant::Executor => Carry::Executor,
                Variant::Global => Carry::Global,
            };
            let (n, gap) = (cfg.requests, cfg.arrival_gap_ms);
            let tally = shown::serve(&ctx, carry, n, gap, cfg.work_ms).await;
            ctx.metric("wrong_ids", tally.wrong.load(Ordering::Relaxed));
            ctx.metric("missing_ids", tally.missing.load(Ordering::Relaxed));
        }
        .boxed()
    }
}
