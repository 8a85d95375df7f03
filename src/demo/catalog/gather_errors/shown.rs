use std::time::Duration;

use futures::FutureExt;
use tokio::task::JoinSet;
use tokio_util::task::TaskTracker;

use crate::demo::{Ctx, Ended};

/// A child as the caller starts it.
pub struct Child {
    pub name: String,
    pub latency: Duration,
    pub fails: bool,
}

/// One child: it waits its latency (a timer stands in for the network), then answers, or
/// returns an error if it is the failing one.
async fn child(ctx: Ctx, latency: Duration, fails: bool) -> Ended {
    tokio::time::sleep(latency).await;
    if fails {
        ctx.mark("the child fails");
        Ended::error(format!("failed after {} ms", latency.as_millis()))
    } else {
        Ended::ok(format!("{} ms", latency.as_millis()))
    }
}

/// An ending as the try_ functions need it: Ok, or Err for the first one to stop at.
fn checked(ended: Ended) -> Result<Ended, Ended> {
    if ended.is_ok() { Ok(ended) } else { Err(ended) }
}

pub async fn try_join_all(ctx: &Ctx, children: Vec<Child>) -> Ended {
    // Every child is a future polled inside this task, as with tokio::try_join!.
    let futures = children.into_iter().map(|c| {
        let fut = child(ctx.clone(), c.latency, c.fails);
        ctx.instrument(c.name, fut).map(checked)
    });
    match futures::future::try_join_all(futures).await {
        Ok(all) => Ended::ok(format!("{} answers", all.len())),
        // The first Err returns at once. The other futures are dropped with try_join_all,
        // and a dropped future never runs again: they are cancelled, right now.
        Err(first) => Ended::error(format!("the first error: {}", first.detail)),
    }
}

pub async fn join_all(ctx: &Ctx, children: Vec<Child>) -> Ended {
    let futures = children.into_iter().map(|c| {
        let fut = child(ctx.clone(), c.latency, c.fails);
        ctx.instrument(c.name, fut)
    });
    // Waits for every child; the error comes back in its slot, like
    // gather(..., return_exceptions=True). Nothing is cancelled.
    let results = futures::future::join_all(futures).await;
    let failed = results.iter().filter(|r| !r.is_ok()).count();
    Ended::ok(format!("{} ok, {failed} failed", results.len() - failed))
}

pub async fn join_set_abort(ctx: &Ctx, children: Vec<Child>) -> Ended {
    let mut set = JoinSet::new();
    for c in children {
        ctx.spawn_in(&mut set, c.name, child(ctx.clone(), c.latency, c.fails));
    }
    while let Some(joined) = set.join_next().await {
        let ended = joined.unwrap_or_else(|e| Ended::error(e.to_string()));
        if !ended.is_ok() {
            // The first error: abort the siblings, and wait until they are gone, as
            // asyncio.TaskGroup does before it raises.
            set.abort_all();
            while set.join_next().await.is_some() {}
            ctx.mark("the others are cancelled");
            return Ended::error(format!("the first error: {}", ended.detail));
        }
    }
    Ended::ok("every child answered")
}

pub async fn detached(ctx: &Ctx, children: Vec<Child>, background: &TaskTracker) -> Ended {
    // Each child is spawned as a task of its own (asyncio.gather wraps each coroutine in a
    // task too). The tracker only lets main see when they are done; it cancels nothing.
    let handles = children.into_iter().map(|c| {
        let task = background.track_future(child(ctx.clone(), c.latency, c.fails));
        ctx.spawn(c.name, task)
            .map(|joined| checked(joined.unwrap_or_else(|e| Ended::error(e.to_string()))))
    });
    match futures::future::try_join_all(handles).await {
        Ok(all) => Ended::ok(format!("{} answers", all.len())),
        // The first Err returns at once, like plain gather raising. Only the JoinHandles are
        // dropped here, and a dropped JoinHandle detaches its task: the others keep running.
        Err(first) => Ended::error(format!("the first error: {}", first.detail)),
    }
}
