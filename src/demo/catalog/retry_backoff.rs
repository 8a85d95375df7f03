//! Q14: retry with exponential backoff and jitter. The first `failures` attempts fail; between
//! attempts the caller waits base * 2^(n-1), capped, then jittered.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::params::ChoiceParam;
use crate::demo::rng::SplitMix64;
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};
use shown::{FlakyOp, Jitter, Policy, retry};

pub struct RetryBackoff;

variants! {
    pub enum Variant {
        Exponential => VariantSpec::single(
            "exponential",
            "exponential backoff, capped at max_delay_ms, with the chosen jitter",
        ),
    }
}

params! {
    pub struct Config {
        failures: u32 = Int(0..=100), "3", "how many attempts fail before one succeeds";
        hangs: u32 = Int(0..=100), "0",
            "how many of the failing attempts, the first ones, never answer: only the \
             per-attempt timeout ends them";
        max_attempts: u32 = Int(1..=100), "5", "give up after this many attempts";
        base_ms: Duration = Ms(0..=60_000), "100",
            "the delay before the first retry; it doubles for each retry after";
        max_delay_ms: Duration = Ms(0..=60_000), "2000",
            "no delay is longer than this (before jitter)";
        jitter: Jitter = Choice, "full",
            "none: the delay as is; full: random in 0..=delay; equal: delay/2 + random in 0..=delay/2";
        seed: u64 = Seed(4_294_967_295), "7", "the seed of the pseudo-random jitter";
        op_ms: Duration = Ms(0..=60_000), "0", "how long each attempt takes";
        attempt_timeout_ms: Duration = Ms(1..=60_000), "1000",
            "an attempt still running after this long is cancelled and counts as failed";
    }
}

impl ChoiceParam for Jitter {
    const NAMES: &'static [&'static str] = &["none", "full", "equal"];

    fn from_name(name: &str) -> Option<Jitter> {
        match name {
            "none" => Some(Jitter::None),
            "full" => Some(Jitter::Full),
            "equal" => Some(Jitter::Equal),
            _ => None,
        }
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "retry-backoff",
    title: "Retry with exponential backoff and jitter",
    about: "An operation fails its first `failures` attempts (the first `hangs` of them never \
            answer). Each attempt gets `attempt_timeout_ms`; one that takes longer is cancelled \
            and retried like a failure. \
            Before retry n the caller waits min(max_delay_ms, base_ms * 2^(n-1)), jittered; it \
            gives up after max_attempts.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Exponential.name()],
    params: Config::PARAMS,
    metrics: &[
        ("attempts", "attempts made, the successful one included"),
        (
            "backoff_ms",
            "time spent waiting between attempts, in whole ms",
        ),
    ],
    source: include_str!("retry_backoff/shown.rs"),
    source_file: "src/demo/catalog/retry_backoff/shown.rs",
};

impl DemoProgram for RetryBackoff {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let policy = match variant {
            Variant::Exponential => Policy {
                max_attempts: cfg.max_attempts.max(1),
                attempt_timeout: cfg.attempt_timeout_ms,
                base: cfg.base_ms,
                max_delay: cfg.max_delay_ms,
                jitter: cfg.jitter,
            },
        };
        let op = FlakyOp {
            failures: cfg.failures,
            hangs: cfg.hangs,
            duration: cfg.op_ms,
        };
        async move {
            let rng = SplitMix64(cfg.seed);
            let caller = ctx.spawn("caller", retry(ctx.clone(), policy, op, rng));
            let _ = caller.await;
        }
        .boxed()
    }
}
