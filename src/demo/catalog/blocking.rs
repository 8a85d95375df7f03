//! Q15: a blocking call inside an async task stops every other task on its thread.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::Notify;

use crate::demo::{
    Clock, Ctx, DemoProgram, DemoSpec, DemoVariant, Flavor, FromParams, VariantSpec, params,
    variants,
};
use shown::{How, blocker, ticker};

pub struct Blocking;

variants! {
    pub enum Variant {
        Blocking => VariantSpec::single(
            "blocking",
            "std::thread::sleep inside the task: the runtime's only thread stops",
        ),
        AsyncSleep => VariantSpec::single(
            "async-sleep",
            "tokio::time::sleep: the task waits and the thread runs the ticker",
        ),
        SpawnBlocking => VariantSpec {
            name: "spawn-blocking",
            help: "std::thread::sleep moved to tokio's blocking pool with spawn_blocking \
                   (real clock only)",
            clocks: &[Clock::Real],
            flavor: Flavor::CurrentThread,
            workers_param: None,
            blocking_threads_param: None,
        },
    }
}

params! {
    pub struct Config {
        tick_ms: Duration = Ms(1..=60_000), "100", "the ticker's period";
        block_ms: Duration = Ms(0..=60_000), "500", "how long the blocker sleeps";
        ticks: usize = Int(1..=1000), "10", "how many ticks the ticker makes";
        block_after_ticks: usize = Int(1..=1000), "2",
            "the blocker sleeps right after this tick (capped at ticks)";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "blocking",
    title: "Blocking the event loop",
    about: "A ticker ticks every tick_ms while a second task sleeps for block_ms. \
            std::thread::sleep holds the only thread, so the ticker misses its ticks; \
            tokio::time::sleep, or the sleep moved to the blocking pool, leaves the ticker on time.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Blocking.name(), Variant::AsyncSleep.name()],
    params: Config::PARAMS,
    metrics: &[(
        "max_tick_gap_ms",
        "longest time between two ticks (tick_ms when nothing delays the ticker)",
    )],
    source: include_str!("blocking/shown.rs"),
    source_file: "src/demo/catalog/blocking/shown.rs",
};

impl DemoProgram for Blocking {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let (period, block, ticks) = (cfg.tick_ms, cfg.block_ms, cfg.ticks);
        // Past the last tick there would be no tick to block after.
        let block_after = cfg.block_after_ticks.min(ticks);
        let how = match variant {
            Variant::Blocking => How::ThreadSleep,
            Variant::AsyncSleep => How::AsyncSleep,
            Variant::SpawnBlocking => How::BlockingPool,
        };
        async move {
            let go = Arc::new(Notify::new());
            let ticker = ctx.spawn(
                "ticker",
                ticker(ctx.clone(), period, ticks, block_after, Arc::clone(&go)),
            );
            let blocker = ctx.spawn("blocker", blocker(ctx.clone(), how, block, go));
            let _ = ticker.await;
            let _ = blocker.await;
        }
        .boxed()
    }
}
