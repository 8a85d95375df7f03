//! Q10: a pipeline. A producer feeds a bounded channel, N workers each send their item to a
//! service over a real loopback TCP connection, and a sink appends the results to a file.
//! A full queue makes the producer wait (backpressure); an item the service rejects is reported
//! and the pipeline goes on.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::demo::params::ItemError;
use crate::demo::services;
use crate::demo::timeline::SeriesValue;
use crate::demo::{
    Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, SetupError, VariantSpec,
};

pub struct Pipeline;

static SPEC: DemoSpec = DemoSpec {
    id: "pipeline",
    title: "Producer → bounded queue → workers → sink",
    about: "The producer is faster than the workers, so the bounded queue fills and the producer \
            waits for room (backpressure) instead of piling items up in memory. Each worker sends \
            its item to a service over a loopback TCP connection; the sink appends every result \
            to a file. Items the service rejects are reported and the rest flow on.",
    variants: &[VariantSpec::real(
        "mpsc",
        "tokio::sync::mpsc bounded channel shared by the workers, real clock",
    )],
    default_variants: &["mpsc"],
    params: &[
        ParamSpec {
            name: "items",
            kind: ParamKind::Int { min: 1, max: 200 },
            default: "24",
            help: "items the producer makes, numbered from 1",
        },
        ParamSpec {
            name: "capacity",
            kind: ParamKind::Int { min: 1, max: 100 },
            default: "4",
            help: "how many items the queue holds; the producer waits when it is full",
        },
        ParamSpec {
            name: "workers",
            kind: ParamKind::Int { min: 1, max: 16 },
            default: "3",
            help: "workers taking items from the queue, each with its own connection",
        },
        ParamSpec {
            name: "work_ms",
            kind: ParamKind::Ms { min: 0, max: 100 },
            default: "30",
            help: "how long the service takes per item (server side)",
        },
        ParamSpec {
            name: "fail_items",
            kind: ParamKind::TextList {
                max_len: 20,
                item: item_id,
                syntax: "item numbers the service rejects, e.g. 7,13",
            },
            default: "7",
            help: "items the service answers with an error",
        },
    ],
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
    source: include_str!("pipeline.rs"),
    source_file: file!(),
};

fn item_id(s: &str) -> Result<(), ItemError> {
    match s.parse::<u32>() {
        Ok(n) if (1..=200).contains(&n) => Ok(()),
        _ => Err(ItemError("not an item number 1..=200".into())),
    }
}

struct Config {
    items: u32,
    capacity: usize,
    workers: usize,
    work: Duration,
    fail: BTreeSet<u32>,
}

impl LegacyDemo for Pipeline {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let cfg = Config {
            items: u32::try_from(params.int("items")).unwrap_or(1),
            capacity: params.count("capacity").max(1),
            workers: params.count("workers").max(1),
            work: params.ms("work_ms"),
            fail: params
                .text_list("fail_items")
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
        };
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
                serve(
                    ctx.clone(),
                    listener,
                    cfg.fail.clone(),
                    cfg.work,
                    stop.clone(),
                ),
            );
            let results = dir.path().join("results.txt");
            run_pipeline(&ctx, &cfg, addr, &results).await;
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
                    ctx.setup_failed("clean up", SetupError::new("cannot remove the files", e))
                        .await
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
            return ctx
                .setup_failed("check", SetupError::new("cannot read the results", e))
                .await;
        }
    };
    let mut seen = std::collections::BTreeMap::<u32, usize>::new();
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

/// What item `n` carries.
fn payload(n: u32) -> String {
    format!("item-{n}")
}

// region:demo
use std::sync::Arc;
use std::time::Duration;

use tokio::fs::OpenOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

struct Item {
    n: u32,
    text: String,
}

/// What a worker hands the sink: the item's result, or why it failed.
type Done = (u32, Result<String, String>);

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
            _ => Err(reply.clone()),
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
            Err(why) => format!("{n}\tFAILED {why}\n"),
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

async fn run_pipeline(ctx: &Ctx, cfg: &Config, service: SocketAddr, results: &Path) {
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
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunRequest, VariantRun};
    use crate::demo::timeline::SeriesValue;
    use crate::demo::{Clock, Outcome};

    fn run(sets: &[&str]) -> VariantRun {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("pipeline", &[], &sets, Clock::Real).unwrap();
        let report = runner::run_blocking(req).unwrap();
        let r = report.run("mpsc").unwrap().clone();
        assert_eq!(r.alive_after, 0, "no task left behind");
        assert_eq!(r.error, None);
        left_nothing(&r);
        r
    }

    /// The service's port is closed and the temporary directory is gone.
    fn left_nothing(r: &VariantRun) {
        let m = &r.timeline.metrics;
        let port = m["port"].as_u64().unwrap() as u16;
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
        let dir = m["dir"].as_str().unwrap();
        assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
    }

    fn depths(r: &VariantRun) -> Vec<f64> {
        r.timeline.series["queue_depth"]
            .iter()
            .filter_map(|(_, v)| match v {
                SeriesValue::Num(n) => Some(*n),
                SeriesValue::Text(_) => None,
            })
            .collect()
    }

    /// Every item exactly once in the results file, the rejected ones as failures.
    fn exactly_once(r: &VariantRun, items: f64, failed: serde_json::Value) {
        let tl = &r.timeline;
        assert_eq!(tl.metric("written"), Some(items));
        assert_eq!(tl.metric("duplicates"), Some(0.0));
        assert_eq!(tl.metric("missing"), Some(0.0));
        assert_eq!(tl.metric("bad_lines"), Some(0.0));
        assert_eq!(tl.metrics["failed_items"], failed);
        for t in &tl.tasks {
            assert_eq!(t.outcome, Outcome::Ok, "{}: {}", t.name, t.detail);
        }
    }

    #[test]
    fn every_item_once_and_the_queue_stays_within_its_bound() {
        let r = run(&[]);
        exactly_once(&r, 24.0, serde_json::json!([7]));
        let tl = &r.timeline;
        // The bound holds, and it was reached: the producer had to wait.
        let d = depths(&r);
        assert!(d.iter().all(|&x| x <= 4.0), "{d:?}");
        assert_eq!(tl.metric("max_queue_depth"), Some(4.0));
        let waits = tl.metric("producer_waits").unwrap();
        assert!(waits >= 1.0);
        let full_marks = tl
            .marks
            .iter()
            .filter(|m| m.label == "queue full: producer waits")
            .count();
        assert_eq!(full_marks as f64, waits);
        assert!(tl.metric("producer_blocked_ms").unwrap() > 0.0);
        // The failure is reported where it happened, once.
        let failed: Vec<&str> = tl
            .marks
            .iter()
            .filter(|m| m.label.ends_with("failed"))
            .map(|m| m.label.as_str())
            .collect();
        assert_eq!(failed, ["item 7 failed"]);
        // The three workers shared the work.
        for w in 1..=3 {
            let t = tl.task(&format!("worker {w}")).unwrap();
            assert!(!t.detail.starts_with("0 done"), "worker {w}: {}", t.detail);
        }
    }

    #[test]
    fn more_failures_than_workers_do_not_wedge_the_pipeline() {
        let r = run(&[
            "items=12",
            "workers=2",
            "capacity=2",
            "work_ms=5",
            "fail_items=1,2,3,4,5,6",
        ]);
        exactly_once(&r, 12.0, serde_json::json!([1, 2, 3, 4, 5, 6]));
        assert!(depths(&r).iter().all(|&x| x <= 2.0));
    }

    #[test]
    fn a_queue_with_room_for_everything_never_makes_the_producer_wait() {
        let r = run(&["items=10", "capacity=10", "fail_items="]);
        exactly_once(&r, 10.0, serde_json::json!([]));
        assert_eq!(r.timeline.metric("producer_waits"), Some(0.0));
        assert!(depths(&r).iter().all(|&x| x <= 10.0));
    }

    #[test]
    fn one_slot_one_worker() {
        let r = run(&["items=8", "capacity=1", "workers=1", "work_ms=5"]);
        exactly_once(&r, 8.0, serde_json::json!([7]));
        assert_eq!(r.timeline.metric("max_queue_depth"), Some(1.0));
    }

    #[test]
    fn a_cancelled_run_closes_the_service_and_removes_the_files() {
        let sets: Vec<String> = ["items=200", "workers=1", "work_ms=50"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let req = RunRequest::build("pipeline", &[], &sets, Clock::Real).unwrap();
        let run = runner::DemoRun::start(req).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(!run.is_finished());
        run.cancel();
        let report = run.wait();
        let r = &report.runs[0];
        assert_eq!(r.error, Some(crate::demo::RunError::Cancelled));
        assert_eq!(r.alive_after, 0);
        left_nothing(r);
    }
}
