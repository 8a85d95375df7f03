//! Q16: a demo made to be looked at with tokio-console. Each task misbehaves the way the console's
//! lints look for: one polls for too long, one wakes itself, one loses its waker, one never ends.
//! Run it live (`asyncdojo --console`, or `asyncdojo run console-lab --clock real --console`) and
//! watch `tokio-console` in a second terminal.

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

pub struct ConsoleLab;

variants! {
    pub enum Variant {
        Inspect => VariantSpec {
            name: "inspect",
            help: "all five tasks on one current-thread runtime",
            clocks: &[Clock::Real, Clock::Virtual],
            flavor: Flavor::CurrentThread,
            workers_param: None,
            blocking_threads_param: None,
        },
    }
}

params! {
    pub struct Config {
        run_ms: Duration = Ms(100..=300_000), "30000",
            "how long the lab runs (long enough to look around in tokio-console)";
        block_ms: Duration = Ms(0..=5_000), "300",
            "how long each poll of `long poll` holds the thread, once a second";
        self_wakes: usize = Int(0..=10_000), "100",
            "how many times `self-waker` wakes itself per round";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "console-lab",
    title: "Tasks to inspect with tokio-console",
    about: "A healthy ticker next to a task whose polls are too long, one that wakes itself, one \
            that loses its waker and one that never finishes: the cases tokio-console's busy/idle \
            columns and its lints are there to catch.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Inspect.name()],
    params: Config::PARAMS,
    metrics: &[
        ("ticks", "ticks of the healthy ticker"),
        ("self_wakes", "times self-waker woke itself"),
    ],
    source: include_str!("console_lab/shown.rs"),
    source_file: "src/demo/catalog/console_lab/shown.rs",
};

impl DemoProgram for ConsoleLab {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            match variant {
                Variant::Inspect => {
                    shown::lab(ctx, cfg.run_ms, cfg.block_ms, cfg.self_wakes).await;
                }
            }
        }
        .boxed()
    }
}
