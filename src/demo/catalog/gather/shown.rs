use std::time::Duration;

use crate::demo::{Ctx, Ended, ctx::Gauge};

/// One request: wait its latency (a timer stands in for the network here; the
/// http-fanout demo does the same against a real server).
async fn request(ctx: Ctx, in_flight: Gauge, latency: Duration) -> Ended {
    in_flight.enter();
    tokio::time::sleep(latency).await;
    in_flight.leave();
    ctx.mark("response");
    Ended::ok(format!("{} ms", latency.as_millis()))
}

pub async fn sequential(ctx: &Ctx, in_flight: &Gauge, latencies: Vec<Duration>) {
    for (i, latency) in latencies.into_iter().enumerate() {
        // Each await finishes before the next request even starts.
        let req = request(ctx.clone(), in_flight.clone(), latency);
        ctx.instrument(format!("request {}", i + 1), req).await;
    }
}

pub async fn join_all(ctx: &Ctx, in_flight: &Gauge, latencies: Vec<Duration>) {
    // All futures are created first, then polled together by one task.
    let requests = latencies.into_iter().enumerate().map(|(i, latency)| {
        let req = request(ctx.clone(), in_flight.clone(), latency);
        ctx.instrument(format!("request {}", i + 1), req)
    });
    futures::future::join_all(requests).await;
}

pub async fn join_set(ctx: &Ctx, in_flight: &Gauge, latencies: Vec<Duration>) {
    // Each request becomes its own task; join_next yields them as they finish.
    let mut set = tokio::task::JoinSet::new();
    for (i, latency) in latencies.into_iter().enumerate() {
        let req = request(ctx.clone(), in_flight.clone(), latency);
        ctx.spawn_in(&mut set, format!("request {}", i + 1), req);
    }
    while set.join_next().await.is_some() {}
}
