//! Q8/Q12: a circuit breaker. Consecutive failures open it; while open, calls are turned away at
//! once; after `reset_ms` one trial call decides whether it closes again.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::params::{ItemError, ListItem};
use crate::demo::rng::SplitMix64;
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};
use shown::{Breaker, ScriptedCall, lock, run_calls};

pub struct CircuitBreakerDemo;

/// The longest a scripted call may wait before it starts, or take.
const MAX_SCRIPT_MS: u64 = 60_000;
/// Random calls arrive this far apart.
const RANDOM_GAP_MS: u64 = 100;

variants! {
    pub enum Variant {
        Breaker => VariantSpec::single(
            "breaker",
            "closed / open / half-open breaker shared by every call",
        ),
    }
}

params! {
    pub struct Config {
        threshold: u32 = Int(1..=1000), "3", "consecutive failures that open the breaker";
        reset_ms: Duration = Ms(0..=60_000), "1000",
            "how long the breaker stays open before it lets one trial call through";
        calls: Vec<ScriptedCall> = TextList(1000),
            "0:fail,100:fail,200:fail,300:ok,600:ok,1300:ok:200,1400:ok,1600:ok",
            "the scripted calls: when each starts, whether it succeeds, how long it takes";
        failure_pct: u64 = Int(0..=100), "0",
            "random mode only: the chance, in percent, that a call fails";
        seed: u64 = Seed(4_294_967_295), "1",
            "random mode only: the seed of the pseudo-random failures";
        random_calls: usize = Int(0..=1000), "0",
            "if > 0, replace the script with this many random calls, one every 100 ms";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "circuit-breaker",
    title: "Circuit breaker",
    about: "Calls go through a breaker. `threshold` failures in a row open it; while open, calls \
            are rejected at once; `reset_ms` later one trial call runs, and its result closes \
            the breaker or opens it again. A result that arrives after the breaker changed state \
            is ignored.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Breaker.name()],
    params: Config::PARAMS,
    metrics: &[
        (
            "rejected",
            "calls the breaker turned away without running them",
        ),
        ("trials", "half-open trial calls"),
        ("opened", "times the breaker opened"),
        (
            "stale",
            "results ignored: the breaker changed state while the call ran",
        ),
    ],
    source: include_str!("circuit_breaker/shown.rs"),
    source_file: "src/demo/catalog/circuit_breaker/shown.rs",
};

impl DemoProgram for CircuitBreakerDemo {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let script = match cfg.random_calls {
            // The script, numbered in list order ("call 1" is the first item).
            0 => cfg
                .calls
                .into_iter()
                .enumerate()
                .map(|(i, c)| (i + 1, c))
                .collect(),
            n => random_calls(n, cfg.failure_pct, cfg.seed),
        };
        async move {
            let breaker = match variant {
                Variant::Breaker => Breaker::new(ctx.clone(), cfg.threshold, cfg.reset_ms),
            };
            let breaker = Arc::new(Mutex::new(breaker));
            run_calls(&ctx, &breaker, script).await;
            let b = lock(&breaker);
            ctx.metric("rejected", b.rejected);
            ctx.metric("trials", b.trials);
            ctx.metric("opened", b.opened);
            ctx.metric("stale", b.stale);
        }
        .boxed()
    }
}

/// The `calls` syntax, checked when the parameter is set.
impl ListItem for ScriptedCall {
    const SYNTAX: &'static str = "AT_MS:ok|fail or AT_MS:ok|fail:DURATION_MS";

    fn parse_item(item: &str) -> Result<ScriptedCall, ItemError> {
        let syntax = "write AT_MS:ok|fail or AT_MS:ok|fail:DURATION_MS";
        let parts: Vec<&str> = item.split(':').map(str::trim).collect();
        let (at, result, duration) = match parts.as_slice() {
            [at, result] => (*at, *result, "0"),
            [at, result, duration] => (*at, *result, *duration),
            _ => return Err(ItemError(syntax.into())),
        };
        let ms = |what: &str, text: &str| -> Result<u64, ItemError> {
            let n: u64 = text.parse().map_err(|_| {
                ItemError(format!("{what} `{text}` is not a whole number of ms ({syntax})").into())
            })?;
            if n > MAX_SCRIPT_MS {
                return Err(ItemError(
                    format!("{what} {n} ms is over {MAX_SCRIPT_MS} ms").into(),
                ));
            }
            Ok(n)
        };
        let ok = match result {
            "ok" => true,
            "fail" => false,
            other => {
                return Err(ItemError(
                    format!("`{other}` is neither ok nor fail ({syntax})").into(),
                ));
            }
        };
        Ok(ScriptedCall {
            at: Duration::from_millis(ms("start", at)?),
            ok,
            duration: Duration::from_millis(ms("duration", duration)?),
        })
    }
}

/// `n` instant calls, one every 100 ms, each failing with probability `failure_pct` %.
fn random_calls(n: usize, failure_pct: u64, seed: u64) -> Vec<(usize, ScriptedCall)> {
    let mut rng = SplitMix64(seed);
    (0..n)
        .map(|i| {
            let call = ScriptedCall {
                at: Duration::from_millis(RANDOM_GAP_MS * i as u64),
                ok: rng.next_u64() % 100 >= failure_pct,
                duration: Duration::ZERO,
            };
            (i + 1, call)
        })
        .collect()
}
