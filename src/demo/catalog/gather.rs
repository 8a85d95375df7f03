//! Q1/Q5: the same awaits one after another, then all at once.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, Demo, DemoSpec, Ended, ParamKind, ParamSpec, Params, VariantSpec};

pub struct Gather;

static SPEC: DemoSpec = DemoSpec {
    id: "gather",
    title: "Sequential awaits vs gather",
    about: "Each request waits its latency. Awaited one by one the waits add up; \
            joined, they overlap and the total is the longest one.",
    variants: &[
        VariantSpec::single("sequential", "await each request before starting the next"),
        VariantSpec::single(
            "join-all",
            "futures::future::join_all: all polled in one task",
        ),
        VariantSpec::single(
            "join-set",
            "tokio::task::JoinSet: each request spawned as a task",
        ),
    ],
    default_variants: &["sequential", "join-all"],
    params: &[ParamSpec {
        name: "latencies_ms",
        kind: ParamKind::MsList {
            min_len: 1,
            max_len: 100_000,
            min: 0,
            max: 60_000,
        },
        default: "100,200,300",
        help: "how long each request waits, in order",
    }],
    metrics: &[("max_in_flight", "most requests waiting at the same time")],
    source: include_str!("gather.rs"),
};

impl Demo for Gather {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let latencies = params.ms_list("latencies_ms");
        async move {
            let in_flight = ctx.gauge("in_flight");
            match variant {
                "sequential" => sequential(&ctx, &in_flight, latencies).await,
                "join-all" => join_all(&ctx, &in_flight, latencies).await,
                _ => join_set(&ctx, &in_flight, latencies).await,
            }
            ctx.metric("max_in_flight", in_flight.max());
        }
        .boxed()
    }
}

// region:demo
use std::time::Duration;

use crate::demo::ctx::Gauge;

/// One request: wait its latency (a timer stands in for the network here; the
/// http-fanout demo does the same against a real server).
async fn request(ctx: Ctx, in_flight: Gauge, latency: Duration) -> Ended {
    in_flight.enter();
    tokio::time::sleep(latency).await;
    in_flight.leave();
    ctx.mark("response", line!());
    Ended::ok(format!("{} ms", latency.as_millis()))
}

async fn sequential(ctx: &Ctx, in_flight: &Gauge, latencies: Vec<Duration>) {
    for (i, latency) in latencies.into_iter().enumerate() {
        // Each await finishes before the next request even starts.
        let req = request(ctx.clone(), in_flight.clone(), latency);
        ctx.instrument(format!("request {}", i + 1), req).await;
    }
}

async fn join_all(ctx: &Ctx, in_flight: &Gauge, latencies: Vec<Duration>) {
    // All futures are created first, then polled together by one task.
    let requests = latencies.into_iter().enumerate().map(|(i, latency)| {
        let req = request(ctx.clone(), in_flight.clone(), latency);
        ctx.instrument(format!("request {}", i + 1), req)
    });
    futures::future::join_all(requests).await;
}

async fn join_set(ctx: &Ctx, in_flight: &Gauge, latencies: Vec<Duration>) {
    // Each request becomes its own task; join_next yields them as they finish.
    let mut set = tokio::task::JoinSet::new();
    for (i, latency) in latencies.into_iter().enumerate() {
        let req = request(ctx.clone(), in_flight.clone(), latency);
        ctx.spawn_in(&mut set, format!("request {}", i + 1), req);
    }
    while set.join_next().await.is_some() {}
}
// endregion:demo
