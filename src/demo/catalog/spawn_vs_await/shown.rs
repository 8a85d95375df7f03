use std::time::Duration;

use crate::demo::{Ctx, Ended};

/// The child's job: `work` of waiting (a timer stands in for I/O).
async fn child_work(ctx: Ctx, work: Duration) -> Ended {
    ctx.mark("child starts");
    tokio::time::sleep(work).await;
    Ended::ok(format!("{} ms of work", work.as_millis()))
}

pub async fn await_later(ctx: &Ctx, work: Duration, main_work: Duration) {
    // Only a description of the work: nothing runs until someone polls it.
    let child = ctx.instrument("child", child_work(ctx.clone(), work));
    tokio::time::sleep(main_work).await; // main's own work
    ctx.mark("main's work done: await the child");
    child.await; // the child starts only now: main_ms + work_ms in all
}

pub async fn spawn(ctx: &Ctx, work: Duration, main_work: Duration) {
    // Spawning hands the child to the runtime: it starts as soon as main awaits anything.
    let child = ctx.spawn("child", child_work(ctx.clone(), work));
    tokio::time::sleep(main_work).await; // main's own work, while the child runs
    ctx.mark("main's work done: join the child");
    let _ = child.await; // max(main_ms, work_ms) in all
}

pub async fn spawn_then_abort(ctx: &Ctx, work: Duration, abort_after: Duration) {
    let child = ctx.spawn("child", child_work(ctx.clone(), work));
    tokio::time::sleep(abort_after).await;
    // The runtime drops the child's future at its current await: it never resumes.
    child.abort();
    ctx.mark("abort the child");
    match child.await {
        Err(e) if e.is_cancelled() => ctx.mark("child cancelled"),
        _ => ctx.mark("child had already finished"),
    }
}
