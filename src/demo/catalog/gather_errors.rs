//! Q4/Q5: one child fails; what happens to the others depends on how they were joined:
//! cancelled at once, waited for, aborted, or left running after the caller has returned.

mod shown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_util::task::TaskTracker;

use crate::demo::timeline::{Outcome, TimelineSnapshot};
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};
use shown::Child;

pub struct GatherErrors;

variants! {
    pub enum Variant {
        TryJoinAll => VariantSpec::single(
            "try-join-all",
            "futures::future::try_join_all: the first Err returns and drops (cancels) the rest",
        ),
        JoinAll => VariantSpec::single(
            "join-all",
            "futures::future::join_all: wait for every child and get every result back",
        ),
        JoinSetAbort => VariantSpec::single(
            "join-set-abort",
            "JoinSet: on the first error abort_all() and wait for the aborted tasks",
        ),
        Detached => VariantSpec::single(
            "detached",
            "spawned tasks, first Err returns: the dropped JoinHandles detach the others",
        ),
    }
}

params! {
    pub struct Config {
        fail_ms: Duration = Ms(0..=60_000), "100",
            "when the failing child (the first one) returns its error";
        latencies_ms: Vec<Duration> = MsList(1..=1000, 0..=60_000), "200,300,400",
            "how long each of the other children takes to succeed, in order";
    }
}

/// The lane that joins the children: the code that called gather.
const CALLER: &str = "caller";

static SPEC: DemoSpec = DemoSpec {
    id: "gather-errors",
    title: "When one child fails",
    about: "The first child fails at fail_ms while the others still wait. try_join_all drops \
            them at once, join_all waits for all of them, a JoinSet aborts them, and spawned \
            tasks whose handles are dropped keep running after the caller has returned, like \
            the children of a plain asyncio.gather.",
    variants: Variant::SPECS,
    default_variants: &[
        Variant::TryJoinAll.name(),
        Variant::JoinAll.name(),
        Variant::JoinSetAbort.name(),
        Variant::Detached.name(),
    ],
    params: Config::PARAMS,
    metrics: &[
        ("completed", "children that succeeded"),
        ("failed", "children that returned an error"),
        (
            "cancelled",
            "children cancelled (dropped or aborted) before they finished",
        ),
        ("caller_returned_ms", "when the caller had its answer"),
        (
            "left_running",
            "children still running when the caller returned",
        ),
    ],
    source: include_str!("gather_errors/shown.rs"),
    source_file: "src/demo/catalog/gather_errors/shown.rs",
};

impl DemoProgram for GatherErrors {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            let children = children(&cfg);
            // Only the detached children are tracked: the tracker lets main see when they are
            // done, and cancels nothing.
            let background = TaskTracker::new();
            let caller = async {
                match variant {
                    Variant::TryJoinAll => shown::try_join_all(&ctx, children).await,
                    Variant::JoinAll => shown::join_all(&ctx, children).await,
                    Variant::JoinSetAbort => shown::join_set_abort(&ctx, children).await,
                    Variant::Detached => shown::detached(&ctx, children, &background).await,
                }
            };
            ctx.instrument(CALLER, caller).await;
            // Like asyncio's loop, the runtime runs detached tasks on after their caller has
            // returned: main waits for them so the run shows where they end.
            background.close();
            background.wait().await;
            record_metrics(&ctx, &ctx.recorder().snapshot());
        }
        .boxed()
    }
}

/// The failing child first, then the others in order.
fn children(cfg: &Config) -> Vec<Child> {
    let failing = Child {
        name: "failing".to_owned(),
        latency: cfg.fail_ms,
        fails: true,
    };
    let others = cfg
        .latencies_ms
        .iter()
        .enumerate()
        .map(|(i, &latency)| Child {
            name: format!("child {}", i + 1),
            latency,
            fails: false,
        });
    std::iter::once(failing).chain(others).collect()
}

/// Read from what was recorded, so the detached children count too, though no caller saw
/// them end.
fn record_metrics(ctx: &Ctx, tl: &TimelineSnapshot) {
    let Some(caller) = tl.task(CALLER) else {
        return;
    };
    let returned = caller.finished_ms.unwrap_or(tl.now_ms);
    let children: Vec<_> = tl
        .tasks
        .iter()
        .filter(|t| t.parent == Some(caller.id))
        .collect();
    let count = |o: Outcome| children.iter().filter(|t| t.outcome == o).count();
    ctx.metric("completed", count(Outcome::Ok));
    ctx.metric("failed", count(Outcome::Error));
    ctx.metric("cancelled", count(Outcome::Cancelled));
    ctx.metric("caller_returned_ms", returned);
    let left_running = children.iter().filter(|t| t.is_alive_at(returned)).count();
    ctx.metric("left_running", left_running);
}
