use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::fs::OpenOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Config;
use crate::demo::{Ctx, Ended};

struct Item {
    n: u32,
    text: String,
}

/// What item `n` carries.
pub fn payload(n: u32) -> String {
    format!("item-{n}")
}

/// The service's reply to an item it would not process.
struct Rejected(String);

/// What a worker hands the sink: the item's result, or the service's rejection.
type Done = (u32, Result<String, Rejected>);

async fn producer(ctx: Ctx, queue: mpsc::Sender<Item>, items: u32) -> Ended {
    let (mut waits, mut blocked) = (0, Duration::ZERO);
    for n in 1..=items {
        let item = Item {
            n,
            text: payload(n),
        };
        // Take a slot in the queue; if there is none, wait until a worker frees one.
        let slot = match queue.try_reserve() {
            Ok(slot) => slot,
            Err(mpsc::error::TrySendError::Full(())) => {
                ctx.mark("queue full: producer waits");
                let since = Instant::now();
                let Ok(slot) = queue.reserve().await else {
                    return Ended::error("the workers are gone");
                };
                waits += 1;
                blocked += since.elapsed();
                slot
            }
            Err(mpsc::error::TrySendError::Closed(())) => {
                return Ended::error("the workers are gone");
            }
        };
        slot.send(item);
        ctx.series("queue_depth", queue.max_capacity() - queue.capacity());
    }
    ctx.mark("all items queued: the queue closes");
    ctx.metric("producer_waits", waits);
    ctx.metric("producer_blocked_ms", blocked.as_millis() as u64);
    // Dropping the sender closes the queue: workers drain it, then see the end.
    Ended::ok(format!("{items} items queued; waited {waits} times"))
}

async fn worker(
    ctx: Ctx,
    queue: Arc<Mutex<mpsc::Receiver<Item>>>,
    service: SocketAddr,
    sink: mpsc::Sender<Done>,
) -> Ended {
    let (r, mut w) = match TcpStream::connect(service).await {
        Ok(stream) => stream.into_split(),
        Err(e) => return Ended::error(format!("cannot reach the service: {e}")),
    };
    let mut replies = BufReader::new(r).lines();
    let (mut ok, mut failed) = (0, 0);
    loop {
        // One worker at a time takes the next item; `None`: closed and empty, no more work.
        let item = {
            let mut queue = queue.lock().await;
            let item = queue.recv().await;
            ctx.series("queue_depth", queue.len());
            item
        };
        let Some(Item { n, text }) = item else { break };
        let request = format!("ITEM {n} {text}\n");
        if let Err(e) = w.write_all(request.as_bytes()).await {
            return Ended::error(format!("item {n}: the service went away: {e}"));
        }
        let reply = match replies.next_line().await {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                return Ended::error(format!("item {n}: the service closed the connection"));
            }
            Err(e) => return Ended::error(format!("item {n}: {e}")),
        };
        // A failed item is reported and the worker goes on to the next one: it must not
        // take the worker (and with it the pipeline) down.
        let result = match reply.split_once(' ') {
            Some(("OK", rest)) => Ok(rest.split_once(' ').map_or("", |r| r.1).to_owned()),
            _ => Err(Rejected(reply.clone())),
        };
        if result.is_ok() {
            ok += 1;
        } else {
            failed += 1;
            ctx.mark(format!("item {n} failed"));
        }
        if sink.send((n, result)).await.is_err() {
            return Ended::error("the sink is gone");
        }
    }
    Ended::ok(format!("{ok} done, {failed} failed"))
}

/// Append one line per item to the results file; failures are written as such.
async fn sink(ctx: Ctx, mut done: mpsc::Receiver<Done>, path: PathBuf) -> Ended {
    let file = match OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .await
    {
        Ok(file) => file,
        Err(e) => return Ended::error(format!("cannot open {}: {e}", path.display())),
    };
    let mut out = BufWriter::new(file);
    let mut written = 0;
    // Ends when every worker has dropped its sender: all results are in.
    while let Some((n, result)) = done.recv().await {
        let line = match result {
            Ok(result) => format!("{n}\t{result}\n"),
            Err(Rejected(why)) => format!("{n}\tFAILED {why}\n"),
        };
        if let Err(e) = out.write_all(line.as_bytes()).await {
            return Ended::error(format!("cannot write the results: {e}"));
        }
        written += 1;
    }
    if let Err(e) = out.flush().await {
        return Ended::error(format!("cannot write the results: {e}"));
    }
    ctx.mark("results flushed");
    Ended::ok(format!("{written} lines appended"))
}

pub async fn run_pipeline(ctx: &Ctx, cfg: &Config, service: SocketAddr, results: &Path) {
    let (queue_tx, queue_rx) = mpsc::channel(cfg.capacity);
    let (done_tx, done_rx) = mpsc::channel(cfg.capacity);
    let queue_rx = Arc::new(Mutex::new(queue_rx));
    let mut tasks = JoinSet::new();
    ctx.spawn_in(
        &mut tasks,
        "producer",
        producer(ctx.clone(), queue_tx, cfg.items),
    );
    for w in 1..=cfg.workers {
        let worker = worker(ctx.clone(), Arc::clone(&queue_rx), service, done_tx.clone());
        ctx.spawn_in(&mut tasks, format!("worker {w}"), worker);
    }
    drop(done_tx); // only the workers hold senders now
    ctx.spawn_in(
        &mut tasks,
        "sink",
        sink(ctx.clone(), done_rx, results.to_owned()),
    );
    while tasks.join_next().await.is_some() {}
}
