//! Q7/Q11/Q14: three ways to stop waiting for slow operations: timeout, select!, and one
//! deadline for a whole JoinSet.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};
use shown::Race;

pub struct Timeouts;

variants! {
    pub enum Variant {
        Timeout => VariantSpec::single("timeout", "tokio::time::timeout around each operation"),
        Select => VariantSpec::single(
            "select",
            "tokio::select! between each operation and a sleep",
        ),
        DeadlineSet => VariantSpec::single(
            "deadline-set",
            "all operations in a JoinSet with one deadline; the pending ones are aborted",
        ),
    }
}

params! {
    pub struct Config {
        latencies_ms: Vec<Duration> = MsList(1..=1000, 0..=60_000), "100,300,600",
            "how long each operation takes to answer, in order";
        timeout_ms: Duration = Ms(0..=60_000), "250",
            "how long to wait for each operation (the deadline, for deadline-set)";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "timeouts",
    title: "Timeouts: timeout, select! and a deadline",
    about: "Operations run concurrently, each taking its latency. Those that answer within \
            timeout_ms complete; the others are dropped at the limit: ended as timed out by \
            timeout or select!, or aborted when the JoinSet's deadline passes.",
    variants: Variant::SPECS,
    default_variants: &[
        Variant::Timeout.name(),
        Variant::Select.name(),
        Variant::DeadlineSet.name(),
    ],
    params: Config::PARAMS,
    metrics: &[
        ("completed", "operations that answered within timeout_ms"),
        (
            "timed_out",
            "operations stopped at the limit (timed out or aborted)",
        ),
    ],
    source: include_str!("timeouts/shown.rs"),
    source_file: "src/demo/catalog/timeouts/shown.rs",
};

impl DemoProgram for Timeouts {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let (latencies, limit) = (cfg.latencies_ms, cfg.timeout_ms);
        async move {
            let tally = match variant {
                Variant::Timeout => {
                    shown::each_with_limit(&ctx, &latencies, limit, Race::Timeout).await
                }
                Variant::Select => {
                    shown::each_with_limit(&ctx, &latencies, limit, Race::Select).await
                }
                Variant::DeadlineSet => shown::one_deadline(&ctx, &latencies, limit).await,
            };
            ctx.metric("completed", tally.completed);
            ctx.metric("timed_out", tally.timed_out);
        }
        .boxed()
    }
}
