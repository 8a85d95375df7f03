use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;

use crate::demo::{Ctx, Ended};

tokio::task_local! {
    /// The request id, set for one request's future with `scope`: every future polled inside
    /// that scope reads it, however deep.
    static REQUEST_ID: usize;
}

/// The id the code running now sees: `None` outside any scope (`with` would panic there).
fn current() -> Option<usize> {
    REQUEST_ID.try_with(|id| *id).ok()
}

/// One slot for the whole server, as a `static` (or Python's module global) is. Each run makes
/// its own, so that two runs in one process do not share it.
pub type Slot = Arc<Mutex<Option<usize>>>;

/// How many places saw another request's id, and how many saw none.
#[derive(Clone, Default)]
pub struct Tally {
    pub wrong: Arc<AtomicUsize>,
    pub missing: Arc<AtomicUsize>,
}

impl Tally {
    /// The mark's label for what `place` saw (`log: request=2`), counted if it is not `own`.
    fn seen(&self, place: &str, own: usize, seen: Option<usize>) -> String {
        match seen {
            Some(id) if id == own => {}
            Some(_) => _ = self.wrong.fetch_add(1, Ordering::Relaxed),
            None => _ = self.missing.fetch_add(1, Ordering::Relaxed),
        }
        let id = seen.map_or_else(|| "none".to_owned(), |id| id.to_string());
        format!("{place}: request={id}")
    }
}

/// A child task's work: a lookup (a timer stands in for the database), then a log line with the
/// id that `read` finds there.
async fn lookup(
    ctx: Ctx,
    tally: Tally,
    own: usize,
    work: Duration,
    read: impl Fn() -> Option<usize>,
) -> Ended {
    tokio::time::sleep(work).await;
    ctx.mark(tally.seen("lookup", own, read()));
    Ended::ok("")
}

/// One request with its id in a task-local. `scoped_thread`: the blocking closure gets a scope
/// of its own with the id; without it, it reads the task-local from the blocking pool.
pub async fn with_task_local(
    ctx: Ctx,
    tally: Tally,
    id: usize,
    work: Duration,
    scoped_thread: bool,
) -> Ended {
    let request = async {
        ctx.mark(format!("set request={id}"));
        // tokio::spawn starts the child with no task-locals at all (asyncio's create_task copies
        // the context by itself): give it a scope of its own, with the same id.
        let child = lookup(ctx.clone(), tally.clone(), id, work, current);
        let _ = ctx
            .spawn(format!("lookup {id}"), REQUEST_ID.scope(id, child))
            .await;
        let in_thread = if scoped_thread {
            // The closure runs its code inside a scope with the id, as to_thread runs it in a
            // copy of the context: it reads the id as async code does.
            tokio::task::spawn_blocking(move || REQUEST_ID.sync_scope(id, current)).await
        } else {
            // The blocking pool's thread has no task-locals (run_in_executor's thread has a
            // context of its own, without the request's): it reads none.
            tokio::task::spawn_blocking(current).await
        };
        ctx.mark(tally.seen("thread", id, in_thread.ok().flatten()));
        tokio::time::sleep(work).await; // the request's own I/O, while the others run
        ctx.mark(tally.seen("log", id, current()));
        Ended::ok(format!("request {id}"))
    };
    REQUEST_ID.scope(id, request).await
}

/// One request with its id in the one slot every request shares: whoever wrote last wins.
pub async fn with_global(ctx: Ctx, tally: Tally, slot: Slot, id: usize, work: Duration) -> Ended {
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(id);
    ctx.mark(format!("set request={id}"));
    let read = move || *slot.lock().unwrap_or_else(PoisonError::into_inner);
    let child = lookup(ctx.clone(), tally.clone(), id, work, read.clone());
    let _ = ctx.spawn(format!("lookup {id}"), child).await;
    let in_thread = tokio::task::spawn_blocking(read.clone()).await;
    ctx.mark(tally.seen("thread", id, in_thread.ok().flatten()));
    tokio::time::sleep(work).await; // meanwhile the other requests write the slot
    ctx.mark(tally.seen("log", id, read()));
    Ended::ok(format!("request {id}"))
}

/// Where the requests keep their id.
#[derive(Clone, Copy)]
pub enum Carry {
    TaskLocal,
    /// A task-local, but the thread is not handed the id.
    Executor,
    Global,
}

/// The server: a request arrives every `gap`, each a task of its own, all running at once.
pub async fn serve(
    ctx: &Ctx,
    carry: Carry,
    requests: usize,
    gap: Duration,
    work: Duration,
) -> Tally {
    let tally = Tally::default();
    let slot = Slot::default();
    let mut running = Vec::with_capacity(requests);
    for id in 1..=requests {
        if id > 1 {
            tokio::time::sleep(gap).await; // until the next request arrives
        }
        let (c, t) = (ctx.clone(), tally.clone());
        let request = match carry {
            Carry::TaskLocal => with_task_local(c, t, id, work, true).boxed(),
            Carry::Executor => with_task_local(c, t, id, work, false).boxed(),
            Carry::Global => with_global(c, t, slot.clone(), id, work).boxed(),
        };
        running.push(ctx.spawn(format!("request {id}"), request));
    }
    for request in running {
        let _ = request.await;
    }
    tally
}
