//! Q3: creating a future runs none of its code; it starts when first polled, or never.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};

pub struct LazyFutures;

variants! {
    pub enum Variant {
        Lazy => VariantSpec::single(
            "lazy",
            "create three futures, await one at once, one later, and drop the third",
        ),
    }
}

params! {
    pub struct Config {
        delay_ms: Duration = Ms(0..=60_000), "200",
            "when (after the start) main awaits the second future";
        work_ms: Duration = Ms(0..=60_000), "100", "how long each future works once it is polled";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "lazy-futures",
    title: "Futures are lazy",
    about: "Three futures are created at the same instant. The one awaited at once runs at once, \
            the one awaited later starts only when awaited, and the one never awaited never runs: \
            it is dropped without a single poll.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Lazy.name()],
    params: Config::PARAMS,
    metrics: &[(
        "never_awaited_polls",
        "how many times the never-awaited future was polled (always 0)",
    )],
    source: include_str!("lazy_futures/shown.rs"),
    source_file: "src/demo/catalog/lazy_futures/shown.rs",
};

impl DemoProgram for LazyFutures {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            match variant {
                Variant::Lazy => shown::lazy(&ctx, cfg.delay_ms, cfg.work_ms).await,
            }
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
