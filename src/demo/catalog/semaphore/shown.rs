use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::demo::{Ctx, Ended, ctx::Gauge};

async fn task(
    ctx: Ctx,
    semaphore: Arc<Semaphore>,
    waiting: Gauge,
    in_flight: Gauge,
    work: Duration,
) -> Ended {
    waiting.enter();
    // Waits while all permits are out. tokio's semaphore is fair: permits are handed to
    // waiters strictly in the order they called acquire.
    let permit = match semaphore.acquire().await {
        Ok(permit) => permit,
        Err(_closed) => return Ended::error("semaphore closed"),
    };
    waiting.leave();
    ctx.mark("permit acquired");
    in_flight.enter();
    tokio::time::sleep(work).await;
    in_flight.leave();
    // Handing the permit back wakes the first task still waiting.
    drop(permit);
    Ended::ok(format!("{} ms of work", work.as_millis()))
}

pub async fn bounded(
    ctx: &Ctx,
    waiting: &Gauge,
    in_flight: &Gauge,
    tasks: usize,
    permits: usize,
    work: Duration,
) {
    let semaphore = Arc::new(Semaphore::new(permits));
    let mut set = JoinSet::new();
    for k in 1..=tasks {
        let t = task(
            ctx.clone(),
            Arc::clone(&semaphore),
            waiting.clone(),
            in_flight.clone(),
            work,
        );
        ctx.spawn_in(&mut set, format!("task {k}"), t);
    }
    while set.join_next().await.is_some() {}
}
