//! Q4: a future awaited later waits for main; a spawned task runs beside it and can be aborted.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};

pub struct SpawnVsAwait;

variants! {
    pub enum Variant {
        Await => VariantSpec::single(
            "await",
            "create the child future first, await it after main's own work",
        ),
        Spawn => VariantSpec::single(
            "spawn",
            "spawn the child first, do main's work, then await its JoinHandle",
        ),
        Abort => VariantSpec::single("abort", "spawn the child, abort it after abort_after_ms"),
    }
}

params! {
    pub struct Config {
        work_ms: Duration = Ms(0..=60_000), "300", "how long the child works";
        main_ms: Duration = Ms(0..=60_000), "100",
            "how long main's own work takes (await and spawn variants)";
        abort_after_ms: Duration = Ms(0..=60_000), "150",
            "when main aborts the child (abort variant)";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "spawn-vs-await",
    title: "Spawn vs await",
    about: "Main has its own work and a child to run. A child future only runs when main awaits \
            it, so the times add up; a spawned child runs beside main at once; a spawned child \
            can also be aborted.",
    variants: Variant::SPECS,
    default_variants: &[
        Variant::Await.name(),
        Variant::Spawn.name(),
        Variant::Abort.name(),
    ],
    params: Config::PARAMS,
    metrics: &[],
    source: include_str!("spawn_vs_await/shown.rs"),
    source_file: "src/demo/catalog/spawn_vs_await/shown.rs",
};

impl DemoProgram for SpawnVsAwait {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let work = cfg.work_ms;
        async move {
            match variant {
                Variant::Await => shown::await_later(&ctx, work, cfg.main_ms).await,
                Variant::Spawn => shown::spawn(&ctx, work, cfg.main_ms).await,
                Variant::Abort => shown::spawn_then_abort(&ctx, work, cfg.abort_after_ms).await,
            }
        }
        .boxed()
    }
}
