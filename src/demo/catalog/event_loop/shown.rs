use std::time::Duration;

use tokio::task::JoinSet;

use crate::demo::{Ctx, Ended, ctx::Gauge};

/// One task: `steps` rounds of CPU work that holds the thread, then an await that gives it back.
async fn worker(ctx: Ctx, running: Gauge, steps: usize, work: Duration, wait: Duration) -> Ended {
    for step in 1..=steps {
        // No await in here: until the work is done, nothing else runs on this thread.
        running.enter();
        ctx.cpu_work(work);
        running.leave();
        ctx.mark(format!("step {step} done: await"));
        // The await is where this task hands the thread back to the event loop,
        // which runs whichever task is ready next.
        tokio::time::sleep(wait).await;
    }
    Ended::ok(format!("{steps} steps"))
}

pub async fn run_tasks(
    ctx: &Ctx,
    running: &Gauge,
    tasks: usize,
    steps: usize,
    work: Duration,
    wait: Duration,
) {
    let mut set = JoinSet::new();
    for i in 1..=tasks {
        let task = worker(ctx.clone(), running.clone(), steps, work, wait);
        ctx.spawn_in(&mut set, format!("task {i}"), task);
    }
    // Spawned tasks start once main awaits here and gives the thread up.
    while set.join_next().await.is_some() {}
}
