//! Q16: measuring event-loop lag. A monitor asks to wake every `tick_ms` and notes how late it
//! actually woke; a task that holds the thread makes every other task late by that much.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};

pub struct LoopLag;

variants! {
    pub enum Variant {
        Monitor => VariantSpec::single(
            "monitor",
            "a lag monitor and a heavy task on one current-thread runtime",
        ),
    }
}

params! {
    pub struct Config {
        tick_ms: Duration = Ms(1..=60_000), "50",
            "how long the monitor sleeps between measurements";
        heavy_ms: Duration = Ms(0..=60_000), "200",
            "how long the heavy task holds the thread, right after the 2nd tick";
        threshold_ms: Duration = Ms(0..=60_000), "20", "a tick whose lag is over this is flagged";
        run_ms: Duration = Ms(1..=60_000), "500", "how long the monitor keeps measuring";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "loop-lag",
    title: "Event-loop lag monitor",
    about: "A monitor sleeps tick_ms in a loop and records how late each wake-up is. A heavy \
            task holding the thread for heavy_ms delays the next wake-up by heavy_ms - tick_ms; \
            ticks later than threshold_ms are flagged.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Monitor.name()],
    params: Config::PARAMS,
    metrics: &[
        ("max_lag_ms", "the latest any wake-up was, in whole ms"),
        ("flagged", "ticks whose lag was over threshold_ms"),
        ("ticks", "measurements the monitor made"),
    ],
    source: include_str!("loop_lag/shown.rs"),
    source_file: "src/demo/catalog/loop_lag/shown.rs",
};

impl DemoProgram for LoopLag {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let settings = shown::Config {
            tick: cfg.tick_ms,
            heavy: cfg.heavy_ms,
            threshold: cfg.threshold_ms,
            run: cfg.run_ms,
        };
        async move {
            match variant {
                Variant::Monitor => shown::watch_the_loop(&ctx, settings).await,
            }
        }
        .boxed()
    }
}
