use std::time::Duration;

use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Busy, OsSignals};
use crate::demo::ctx::Gauge;
use crate::demo::{Ctx, Ended};

/// The shutdown signal: a timer, or (headless) a real SIGINT or SIGTERM, whichever comes first.
pub async fn wait_for_signal(
    ctx: Ctx,
    after: Duration,
    os: bool,
    shutdown: CancellationToken,
) -> Ended {
    let mut signals = if os { OsSignals::install() } else { None };
    if signals.is_some() {
        ctx.mark("listening for SIGINT/SIGTERM");
    }
    let source = tokio::select! {
        () = tokio::time::sleep(after) => "timer",
        source = OsSignals::recv(&mut signals) => source,
    };
    ctx.mark(format!("shutdown requested ({source})"));
    shutdown.cancel(); // every task holding a clone of the token sees it
    Ended::ok(format!("shutdown by {source}"))
}

/// Accept until the signal; then close the listener, let in-flight requests run until the
/// grace deadline, and cancel whatever is still running.
pub async fn serve(
    ctx: Ctx,
    listener: TcpListener,
    grace: Duration,
    log: mpsc::UnboundedSender<String>,
    shutdown: CancellationToken,
) -> Ended {
    let in_flight = ctx.gauge("in_flight");
    let mut requests = JoinSet::new();
    let mut n = 0;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = requests.join_next() => {} // a request finished before the signal
            conn = listener.accept() => {
                let stream = match conn {
                    Ok((stream, _)) => stream,
                    Err(e) => return Ended::error(format!("accept failed: {e}")),
                };
                n += 1;
                let handler = handle(stream, n, log.clone(), in_flight.clone());
                ctx.spawn_in(&mut requests, format!("request {n}"), handler);
            }
        }
    }
    drop(listener);
    ctx.mark("1. listener closed: no new connections");
    let deadline = Instant::now() + grace;
    let still_running = requests.len();
    let mut finished = 0;
    // Wait for in-flight requests, but only until the deadline.
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, requests.join_next()).await {
        finished += 1;
    }
    while requests.try_join_next().is_some() {
        finished += 1; // finished right at the deadline
    }
    let cancelled = requests.len();
    if cancelled > 0 {
        ctx.mark(format!("2. grace over: cancelling {cancelled}"));
        requests.shutdown().await; // abort them and wait until they are gone
    } else {
        ctx.mark("2. every request finished in the grace period");
    }
    ctx.metric("finished_in_grace", finished);
    ctx.metric("cancelled", cancelled);
    let _ = log.send(format!(
        "shutdown: {finished} finished, {cancelled} cancelled"
    ));
    Ended::ok(format!(
        "{still_running} in flight at the signal: {finished} finished, {cancelled} cancelled"
    ))
    // `log` (the server's sender) is dropped here; the handlers' went with them.
}

/// One request: read `WORK <ms>`, work that long, answer `DONE`. Logs as it goes.
async fn handle(
    stream: TcpStream,
    n: usize,
    log: mpsc::UnboundedSender<String>,
    in_flight: Gauge,
) -> Ended {
    let (r, mut w) = stream.into_split();
    let mut line = String::new();
    if let Err(e) = BufReader::new(r).read_line(&mut line).await {
        return Ended::error(format!("read failed: {e}"));
    }
    let ms: u64 = line
        .trim()
        .strip_prefix("WORK ")
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let _ = log.send(format!("request {n}: {ms} ms of work"));
    let busy = Busy::enter(&in_flight); // leaves when dropped, even if cancelled
    tokio::time::sleep(Duration::from_millis(ms)).await; // the server's own work
    drop(busy);
    if let Err(e) = w.write_all(b"DONE\n").await {
        return Ended::error(format!("write failed: {e}"));
    }
    let _ = log.send(format!("request {n}: done"));
    Ended::ok(format!("{ms} ms of work"))
}

/// Write buffered log lines every `every`. Ends when the last sender is gone (the server and
/// every request): only then is it flushed for the last time and closed.
pub async fn flusher(
    ctx: Ctx,
    mut file: File,
    mut lines: mpsc::UnboundedReceiver<String>,
    every: Duration,
) -> Ended {
    let mut buffer = String::new();
    let mut written = 0;
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(line) => { buffer.push_str(&line); buffer.push('\n'); written += 1; }
                None => break,
            },
            _ = tick.tick() => {
                if let Err(e) = file.write_all(buffer.as_bytes()).await {
                    return Ended::error(format!("cannot write the log: {e}"));
                }
                buffer.clear();
            }
        }
    }
    let closed = async {
        file.write_all(buffer.as_bytes()).await?;
        file.sync_all().await // on disk before we say so
    };
    if let Err(e) = closed.await {
        return Ended::error(format!("cannot flush the log: {e}"));
    }
    drop(file);
    ctx.mark("3. log flushed and closed");
    ctx.metric("log_lines_sent", written);
    Ended::ok(format!("{written} lines written"))
}
