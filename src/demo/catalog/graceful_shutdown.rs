//! Q11: graceful shutdown. A loopback TCP server with requests in flight and a periodic log
//! flusher run until a shutdown signal (a timer, or a real SIGINT/SIGTERM in a headless run).
//! Then, in order: stop accepting, give in-flight requests a grace period, cancel the rest,
//! flush and close the log, remove the temporary files.

use std::path::Path;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::services;
use crate::demo::{
    Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, SetupError, VariantSpec,
};

pub struct GracefulShutdown;

static SPEC: DemoSpec = DemoSpec {
    id: "graceful-shutdown",
    title: "Graceful shutdown with a grace period",
    about: "A TCP server answers requests that take `request_ms` each while a flusher writes its \
            log to a file. At `shutdown_at_ms` (or on SIGINT/SIGTERM when run headless) the \
            server stops accepting, lets in-flight requests finish for `grace_ms`, cancels the \
            rest, and only then is the log flushed and closed and the files removed.",
    variants: &[VariantSpec::real(
        "cancellation-token",
        "tokio_util CancellationToken + a JoinSet drained until the grace deadline",
    )],
    default_variants: &["cancellation-token"],
    params: &[
        ParamSpec {
            name: "request_ms",
            kind: ParamKind::MsList {
                min_len: 1,
                max_len: 8,
                min: 0,
                max: 5000,
            },
            default: "200,800,1400,3000",
            help: "one client per item, all connecting at t = 0; how long the server works on \
                   each request",
        },
        ParamSpec {
            name: "shutdown_at_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 10_000,
            },
            default: "500",
            help: "when the shutdown signal comes (a timer; headless runs also listen for \
                   SIGINT and SIGTERM)",
        },
        ParamSpec {
            name: "grace_ms",
            kind: ParamKind::Ms { min: 0, max: 5000 },
            default: "700",
            help: "how long in-flight requests may still run after the signal",
        },
        ParamSpec {
            name: "flush_every_ms",
            kind: ParamKind::Ms { min: 10, max: 1000 },
            default: "100",
            help: "how often the flusher writes buffered log lines to its file",
        },
    ],
    metrics: &[
        (
            "shutdown_ms",
            "from the signal to the last resource closed: at most grace_ms plus a little",
        ),
        (
            "finished_in_grace",
            "requests still running at the signal that finished within the grace period",
        ),
        (
            "cancelled",
            "requests cancelled when the grace period ran out",
        ),
        ("log_lines", "lines in the log file when it was closed"),
        (
            "log_lines_sent",
            "lines the server and its requests logged (all of them reach the file)",
        ),
    ],
    source: include_str!("graceful_shutdown.rs"),
    source_file: file!(),
};

impl LegacyDemo for GracefulShutdown {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let cfg = Config {
            requests: params.ms_list("request_ms"),
            shutdown_at: params.ms("shutdown_at_ms"),
            grace: params.ms("grace_ms"),
            flush_every: params.ms("flush_every_ms"),
            os_signals: ctx.os_signals(),
        };
        async move {
            // Dropped when this future ends or is dropped (a cancelled run): the files go too.
            let dir = match services::temp_dir(&ctx, "asyncdojo-shutdown-") {
                Ok(dir) => dir,
                Err(e) => return ctx.setup_failed("setup", e).await,
            };
            let (listener, addr) = match services::listen(&ctx).await {
                Ok(bound) => bound,
                Err(e) => return ctx.setup_failed("server", e).await,
            };
            let log = dir.path().join("app.log");
            let signalled = run_app(&ctx, &cfg, listener, addr, &log).await;
            if signalled.is_some() {
                check_log(&ctx, &log).await;
            }
            match dir.close() {
                Ok(()) => ctx.mark("4. temporary directory removed"),
                Err(e) => {
                    ctx.setup_failed("clean up", SetupError::new("cannot remove the files", e))
                        .await
                }
            }
            if let Some(t) = signalled {
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                ctx.metric("shutdown_ms", (ms * 10.0).round() / 10.0);
            }
        }
        .boxed()
    }
}

/// SIGINT and SIGTERM, delivered to this process from the moment they are installed.
#[cfg(unix)]
struct OsSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl OsSignals {
    fn install() -> Option<OsSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(OsSignals {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
        })
    }

    /// The name of the first signal to arrive; never, without signals.
    async fn recv(signals: &mut Option<OsSignals>) -> &'static str {
        match signals {
            Some(s) => tokio::select! {
                _ = s.int.recv() => "SIGINT",
                _ = s.term.recv() => "SIGTERM",
            },
            None => std::future::pending().await,
        }
    }
}

/// Elsewhere, Ctrl-C.
#[cfg(not(unix))]
struct OsSignals;

#[cfg(not(unix))]
impl OsSignals {
    fn install() -> Option<OsSignals> {
        Some(OsSignals)
    }

    async fn recv(signals: &mut Option<OsSignals>) -> &'static str {
        if signals.is_some() && tokio::signal::ctrl_c().await.is_ok() {
            return "Ctrl-C";
        }
        std::future::pending().await
    }
}

/// Keeps `in_flight` right for a request that is cancelled mid-way, too.
struct Busy(Gauge);

impl Busy {
    fn enter(g: &Gauge) -> Busy {
        g.enter();
        Busy(g.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.leave();
    }
}

async fn check_log(ctx: &Ctx, path: &Path) {
    match tokio::fs::read_to_string(path).await {
        Ok(text) => ctx.metric("log_lines", text.lines().count()),
        Err(e) => {
            ctx.setup_failed("check log", SetupError::new("cannot read the log back", e))
                .await
        }
    }
}

struct Config {
    requests: Vec<Duration>,
    shutdown_at: Duration,
    grace: Duration,
    flush_every: Duration,
    os_signals: bool,
}

/// One client: connect, ask for `work`, wait for the answer.
async fn client(addr: SocketAddr, work: Duration) -> Ended {
    let mut stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Ended::rejected(format!("cannot connect: {e}")),
    };
    let request = format!("WORK {}\n", work.as_millis());
    if let Err(e) = stream.write_all(request.as_bytes()).await {
        return Ended::error(format!("cannot send: {e}"));
    }
    let mut reply = String::new();
    match BufReader::new(stream).read_line(&mut reply).await {
        Ok(n) if n > 0 && reply.starts_with("DONE") => Ended::ok("answered"),
        Ok(_) | Err(_) => Ended::cancelled("the server hung up without an answer"),
    }
}

/// A client that arrives just after the signal: the listener is closed, it is refused.
async fn late_client(addr: SocketAddr, shutdown: CancellationToken) -> Ended {
    shutdown.cancelled().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    match TcpStream::connect(addr).await {
        Ok(_) => Ended::error("connected after the listener was closed"),
        Err(e) => Ended::rejected(format!("refused after the signal: {e}")),
    }
}

/// Set up the app, run it until the signal and through its shutdown; returns when the signal
/// came (None if the log could not be opened, already reported).
async fn run_app(
    ctx: &Ctx,
    cfg: &Config,
    listener: TcpListener,
    addr: SocketAddr,
    log: &Path,
) -> Option<Instant> {
    let file = match File::create(log).await {
        Ok(f) => f,
        Err(e) => {
            ctx.setup_failed(
                "flusher",
                SetupError::new(format!("cannot create {}", log.display()), e),
            )
            .await;
            return None;
        }
    };
    let shutdown = CancellationToken::new();
    let (log_tx, log_rx) = mpsc::unbounded_channel();
    let mut clients = JoinSet::new();
    let signal = ctx.spawn(
        "shutdown signal",
        wait_for_signal(
            ctx.clone(),
            cfg.shutdown_at,
            cfg.os_signals,
            shutdown.clone(),
        ),
    );
    let server = ctx.spawn(
        "server",
        serve(ctx.clone(), listener, cfg.grace, log_tx, shutdown.clone()),
    );
    let flusher = ctx.spawn(
        "flusher",
        flusher(ctx.clone(), file, log_rx, cfg.flush_every),
    );
    for (i, work) in cfg.requests.iter().enumerate() {
        let name = format!("client {} ({} ms)", i + 1, work.as_millis());
        ctx.spawn_in(&mut clients, name, client(addr, *work));
    }
    ctx.spawn_in(
        &mut clients,
        "late client",
        late_client(addr, shutdown.clone()),
    );
    shutdown.cancelled().await;
    let signalled = Instant::now();
    let _ = server.await;
    let _ = flusher.await;
    let _ = signal.await;
    while clients.join_next().await.is_some() {}
    Some(signalled)
}

// region:demo
use std::net::SocketAddr;
use std::time::Duration;

use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::demo::ctx::Gauge;

/// The shutdown signal: a timer, or (headless) a real SIGINT or SIGTERM, whichever comes first.
async fn wait_for_signal(
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
async fn serve(
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
async fn flusher(
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
// endregion:demo

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use crate::demo::runner::{self, DemoRun, RunRequest, VariantRun};
    use crate::demo::{Clock, Outcome};

    /// A signal reaches every run listening in this process: one run at a time.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    /// Slack for "within grace": the clean-up after the deadline (log flush, directory removal)
    /// on a busy test machine.
    const EPSILON_MS: f64 = 250.0;

    fn request(sets: &[&str]) -> RunRequest {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let mut req = RunRequest::build("graceful-shutdown", &[], &sets, Clock::Real).unwrap();
        // As a headless run: the tests send real SIGINT/SIGTERM.
        req.os_signals = true;
        req
    }

    fn run(sets: &[&str]) -> VariantRun {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let report = runner::run_blocking(request(sets)).unwrap();
        let r = report.runs[0].clone();
        checked(&r);
        r
    }

    /// Nothing left: no task, no listener, no file; every logged line reached the file.
    fn checked(r: &VariantRun) {
        assert_eq!(r.alive_after, 0, "no task left behind");
        assert_eq!(r.error, None);
        let m = &r.timeline.metrics;
        let port = m["port"].as_u64().unwrap() as u16;
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
        let dir = m["dir"].as_str().unwrap();
        assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
        assert_eq!(m["log_lines"], m["log_lines_sent"]);
        // Resources closed in order.
        let order = [
            "shutdown requested",
            "1. listener closed",
            "2. ",
            "3. log flushed and closed",
            "4. temporary directory removed",
        ];
        let times: Vec<f64> = order
            .iter()
            .map(|p| {
                let found: Vec<f64> = r
                    .timeline
                    .marks
                    .iter()
                    .filter(|m| m.label.starts_with(p))
                    .map(|m| m.t_ms)
                    .collect();
                assert_eq!(found.len(), 1, "one `{p}` mark");
                found[0]
            })
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }

    fn outcome(r: &VariantRun, name: &str) -> Outcome {
        r.timeline.task(name).unwrap().outcome
    }

    #[test]
    fn requests_within_grace_finish_the_rest_are_cancelled() {
        let r = run(&[]);
        let tl = &r.timeline;
        // 200 ms: done before the signal at 500; 800: within the grace (until 1200);
        // 1400 and 3000: cancelled at the deadline.
        for (n, want) in [
            (1, Outcome::Ok),
            (2, Outcome::Ok),
            (3, Outcome::Cancelled),
            (4, Outcome::Cancelled),
        ] {
            assert_eq!(outcome(&r, &format!("request {n}")), want, "request {n}");
        }
        assert_eq!(outcome(&r, "client 1 (200 ms)"), Outcome::Ok);
        assert_eq!(outcome(&r, "client 2 (800 ms)"), Outcome::Ok);
        assert_eq!(outcome(&r, "client 3 (1400 ms)"), Outcome::Cancelled);
        assert_eq!(outcome(&r, "client 4 (3000 ms)"), Outcome::Cancelled);
        // The listener was closed first: a client arriving after the signal is refused.
        assert_eq!(outcome(&r, "late client"), Outcome::Rejected);
        assert_eq!(tl.metric("finished_in_grace"), Some(1.0));
        assert_eq!(tl.metric("cancelled"), Some(2.0));
        assert!(
            tl.marks
                .iter()
                .any(|m| m.label == "shutdown requested (timer)")
        );
        assert!(
            tl.marks
                .iter()
                .any(|m| m.label == "2. grace over: cancelling 2")
        );
        // The shutdown took the whole grace period, and not much more.
        let took = tl.metric("shutdown_ms").unwrap();
        assert!((695.0..=700.0 + EPSILON_MS).contains(&took), "{took} ms");
    }

    #[test]
    fn shutdown_ends_as_soon_as_the_last_request_does() {
        let r = run(&["request_ms=100,300", "shutdown_at_ms=150", "grace_ms=2000"]);
        let tl = &r.timeline;
        assert_eq!(outcome(&r, "request 1"), Outcome::Ok);
        assert_eq!(outcome(&r, "request 2"), Outcome::Ok);
        assert_eq!(tl.metric("finished_in_grace"), Some(1.0));
        assert_eq!(tl.metric("cancelled"), Some(0.0));
        let took = tl.metric("shutdown_ms").unwrap();
        // The last request ends 150 ms after the signal; the grace is not waited out.
        assert!((140.0..=150.0 + EPSILON_MS).contains(&took), "{took} ms");
    }

    #[test]
    fn no_grace_cancels_at_once() {
        let r = run(&["request_ms=1000", "shutdown_at_ms=100", "grace_ms=0"]);
        assert_eq!(outcome(&r, "request 1"), Outcome::Cancelled);
        assert_eq!(r.timeline.metric("cancelled"), Some(1.0));
        let took = r.timeline.metric("shutdown_ms").unwrap();
        assert!(took <= EPSILON_MS, "{took} ms");
    }

    /// Start a run that waits 10 s for its timer, send the process a real signal once the run
    /// listens for it, and check the signal started the shutdown.
    fn by_signal(signal: &str, name: &str) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let run = DemoRun::start(request(&[
            "request_ms=100,5000",
            "shutdown_at_ms=10000",
            "grace_ms=200",
        ]))
        .unwrap();
        let listening = |run: &DemoRun| {
            run.snapshots().iter().any(|(_, s)| {
                s.marks
                    .iter()
                    .any(|m| m.label == "listening for SIGINT/SIGTERM")
            })
        };
        let started = std::time::Instant::now();
        while !listening(&run) {
            assert!(started.elapsed() < Duration::from_secs(5), "never listened");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(std::process::id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let report = run.wait();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the signal, not the timer"
        );
        let r = &report.runs[0];
        checked(r);
        let tl = &r.timeline;
        let label = format!("shutdown requested ({name})");
        assert!(tl.marks.iter().any(|m| m.label == label), "{label}");
        assert_eq!(outcome(r, "request 1"), Outcome::Ok);
        assert_eq!(outcome(r, "request 2"), Outcome::Cancelled);
        let took = tl.metric("shutdown_ms").unwrap();
        assert!((195.0..=200.0 + EPSILON_MS).contains(&took), "{took} ms");
    }

    #[cfg(unix)]
    #[test]
    fn a_real_sigterm_or_sigint_starts_the_shutdown() {
        by_signal("TERM", "SIGTERM");
        by_signal("INT", "SIGINT");
    }

    #[test]
    fn a_cancelled_run_closes_the_server_and_removes_the_files() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let run = DemoRun::start(request(&["shutdown_at_ms=10000"])).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(!run.is_finished());
        run.cancel();
        let report = run.wait();
        let r = &report.runs[0];
        assert_eq!(r.error, Some(crate::demo::RunError::Cancelled));
        assert_eq!(r.alive_after, 0);
        let m = &r.timeline.metrics;
        let port = m["port"].as_u64().unwrap() as u16;
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
        let dir = m["dir"].as_str().unwrap();
        assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
    }
}
