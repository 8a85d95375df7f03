//! Q10: a pipeline. A producer feeds a bounded channel, N workers each send their item to a
//! service over a real loopback TCP connection, and a sink appends the results to a file.
//! A full queue makes the producer wait (backpressure); an item the service rejects is reported
//! and the pipeline goes on.

mod shown;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::demo::params::{ItemError, ListItem};
use crate::demo::services;
use crate::demo::timeline::SeriesValue;
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, Ended, FromParams, SetupError, VariantSpec, params,
    variants,
};
use shown::payload;

pub struct Pipeline;

variants! {
    pub enum Variant {
        Mpsc => VariantSpec::real(
            "mpsc",
            "tokio::sync::mpsc bounded channel shared by the workers, real clock",
        ),
    }
}

/// An item number, 1 to 200 (the most items a run makes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemNo(u32);

impl ListItem for ItemNo {
    const SYNTAX: &'static str = "item numbers the service rejects, e.g. 7,13";

    fn parse_item(text: &str) -> Result<Self, ItemError> {
        match text.parse::<u32>() {
            Ok(n) if (1..=200).contains(&n) => Ok(ItemNo(n)),
            _ => Err(ItemError("not an item number 1..=200".into())),
        }
    }
}

params! {
    pub struct Config {
        items: u32 = Int(1..=200), "24", "items the producer makes, numbered from 1";
        capacity: usize = Int(1..=100), "4",
            "how many items the queue holds; the producer waits when it is full";
        workers: usize = Int(1..=16), "3",
            "workers taking items from the queue, each with its own connection";
        work_ms: Duration = Ms(0..=100), "30", "how long the service takes per item (server side)";
        fail_items: Vec<ItemNo> = TextList(20), "7", "items the service answers with an error";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "pipeline",
    title: "Producer → bounded queue → workers → sink",
    about: "The producer is faster than the workers, so the bounded queue fills and the producer \
            waits for room (backpressure) instead of piling items up in memory. Each worker sends \
            its item to a service over a loopback TCP connection; the sink appends every result \
            to a file. Items the service rejects are reported and the rest flow on.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Mpsc.name()],
    params: Config::PARAMS,
    metrics: &[
        (
            "max_queue_depth",
            "most items waiting in the queue at once (never above capacity)",
        ),
        (
            "producer_waits",
            "times the producer found the queue full and waited",
        ),
        (
            "producer_blocked_ms",
            "total time the producer spent waiting for room",
        ),
        ("written", "results the sink wrote to the file"),
        (
            "failed_items",
            "items the service rejected, as the results file reports them",
        ),
        (
            "duplicates",
            "items found more than once in the results file (always 0)",
        ),
        (
            "missing",
            "items never found in the results file (always 0)",
        ),
    ],
    source: include_str!("pipeline/shown.rs"),
    source_file: "src/demo/catalog/pipeline/shown.rs",
};

impl DemoProgram for Pipeline {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let fail: BTreeSet<u32> = cfg.fail_items.iter().map(|item| item.0).collect();
        async move {
            // Dropped when this future ends or is dropped (a cancelled run): the files go too.
            let dir = match services::temp_dir(&ctx, "asyncdojo-pipeline-") {
                Ok(dir) => dir,
                Err(e) => return ctx.setup_failed("setup", e).await,
            };
            let (listener, addr) = match services::listen(&ctx).await {
                Ok(bound) => bound,
                Err(e) => return ctx.setup_failed("service", e).await,
            };
            let stop = CancellationToken::new();
            let service = ctx.spawn(
                "service",
                serve(ctx.clone(), listener, fail, cfg.work_ms, stop.clone()),
            );
            let results = dir.path().join("results.txt");
            match variant {
                Variant::Mpsc => shown::run_pipeline(&ctx, &cfg, addr, &results).await,
            }
            let depths = ctx.recorder().snapshot().series.remove("queue_depth");
            let max_depth = depths
                .unwrap_or_default()
                .iter()
                .filter_map(|(_, v)| match v {
                    SeriesValue::Num(n) => Some(*n),
                    SeriesValue::Text(_) => None,
                })
                .fold(0.0, f64::max);
            ctx.metric("max_queue_depth", max_depth);
            stop.cancel();
            let _ = service.await;
            check_results(&ctx, &cfg, &results).await;
            match dir.close() {
                Ok(()) => ctx.mark("temporary directory removed"),
                Err(e) => {
                    let e = SetupError::new("cannot remove the files", e);
                    ctx.setup_failed("clean up", e).await
                }
            }
        }
        .boxed()
    }
}

/// The service the workers call: one line in (`ITEM <n> <text>`), one line out after `work`
/// (`OK <n> <result>` or `ERR <n> <reason>`). Its latency is server-side, as a real service's is.
async fn serve(
    ctx: Ctx,
    listener: TcpListener,
    fail: BTreeSet<u32>,
    work: Duration,
    stop: CancellationToken,
) -> Ended {
    let mut conns = JoinSet::new();
    let mut accepted = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            conn = listener.accept() => match conn {
                Ok((stream, _)) => {
                    accepted += 1;
                    let handler = answer(stream, fail.clone(), work, stop.clone());
                    ctx.spawn_in(&mut conns, format!("service conn {accepted}"), handler);
                }
                Err(e) => return Ended::error(format!("accept failed: {e}")),
            },
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
    Ended::ok(format!("served {accepted} connection(s); port closed"))
}

async fn answer(
    stream: TcpStream,
    fail: BTreeSet<u32>,
    work: Duration,
    stop: CancellationToken,
) -> Ended {
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let mut served = 0;
    loop {
        let line = tokio::select! {
            () = stop.cancelled() => break,
            line = lines.next_line() => line,
        };
        let line = match line {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Ended::error(format!("read failed: {e}")),
        };
        let mut parts = line.splitn(3, ' ');
        let (Some("ITEM"), Some(n), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
            return Ended::error(format!("bad request `{line}`"));
        };
        tokio::time::sleep(work).await;
        let reply = match n.parse::<u32>() {
            Ok(n) if fail.contains(&n) => format!("ERR {n} rejected by the service\n"),
            Ok(n) => format!("OK {n} {:08x}\n", checksum(text)),
            Err(_) => format!("ERR {n} not a number\n"),
        };
        if let Err(e) = w.write_all(reply.as_bytes()).await {
            return Ended::error(format!("write failed: {e}"));
        }
        served += 1;
    }
    Ended::ok(format!("{served} item(s)"))
}

/// FNV-1a: the service's "work" result, so the file holds something checkable.
fn checksum(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Read the results file back: every item exactly once, the rejected ones as failures.
async fn check_results(ctx: &Ctx, cfg: &Config, path: &Path) {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(t) => t,
        Err(e) => {
            let e = SetupError::new("cannot read the results", e);
            return ctx.setup_failed("check", e).await;
        }
    };
    let mut seen = BTreeMap::<u32, usize>::new();
    let mut failed = Vec::new();
    let mut bad = 0;
    for line in text.lines() {
        let mut parts = line.splitn(2, '\t');
        let (Some(n), Some(result)) = (parts.next(), parts.next()) else {
            bad += 1;
            continue;
        };
        let Ok(n) = n.parse::<u32>() else {
            bad += 1;
            continue;
        };
        *seen.entry(n).or_default() += 1;
        if result.starts_with("FAILED") {
            failed.push(n);
        } else if result != format!("{:08x}", checksum(&payload(n))) {
            bad += 1;
        }
    }
    let duplicates = seen.values().filter(|&&c| c > 1).count();
    let missing = (1..=cfg.items).filter(|n| !seen.contains_key(n)).count();
    ctx.metric("written", text.lines().count());
    ctx.metric("failed_items", failed);
    ctx.metric("duplicates", duplicates);
    ctx.metric("missing", missing);
    ctx.metric("bad_lines", bad);
    ctx.mark("results file checked");
}
