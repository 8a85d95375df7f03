//! Q11: graceful shutdown. A loopback TCP server with requests in flight and a periodic log
//! flusher run until a shutdown signal (a timer, or a real SIGINT/SIGTERM in a headless run).
//! Then, in order: stop accepting, give in-flight requests a grace period, cancel the rest,
//! flush and close the log, remove the temporary files.

mod shown;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::demo::ctx::Gauge;
use crate::demo::services;
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, Ended, FromParams, SetupError, VariantSpec, params,
    variants,
};

pub struct GracefulShutdown;

variants! {
    pub enum Variant {
        CancellationToken => VariantSpec::real(
            "cancellation-token",
            "tokio_util CancellationToken + a JoinSet drained until the grace deadline",
        ),
    }
}

params! {
    pub struct Config {
        request_ms: Vec<Duration> = MsList(1..=8, 0..=5000), "200,800,1400,3000",
            "one client per item, all connecting at t = 0; how long the server works on \
             each request";
        shutdown_at_ms: Duration = Ms(0..=10_000), "500",
            "when the shutdown signal comes (a timer; headless runs also listen for \
             SIGINT and SIGTERM)";
        grace_ms: Duration = Ms(0..=5000), "700",
            "how long in-flight requests may still run after the signal";
        flush_every_ms: Duration = Ms(10..=1000), "100",
            "how often the flusher writes buffered log lines to its file";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "graceful-shutdown",
    title: "Graceful shutdown with a grace period",
    about: "A TCP server answers requests that take `request_ms` each while a flusher writes its \
            log to a file. At `shutdown_at_ms` (or on SIGINT/SIGTERM when run headless) the \
            server stops accepting, lets in-flight requests finish for `grace_ms`, cancels the \
            rest, and only then is the log flushed and closed and the files removed.",
    variants: Variant::SPECS,
    default_variants: &[Variant::CancellationToken.name()],
    params: Config::PARAMS,
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
    source: include_str!("graceful_shutdown/shown.rs"),
    source_file: "src/demo/catalog/graceful_shutdown/shown.rs",
};

impl DemoProgram for GracefulShutdown {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
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
            let signalled = match variant {
                Variant::CancellationToken => run_app(&ctx, &cfg, listener, addr, &log).await,
            };
            if signalled.is_some() {
                check_log(&ctx, &log).await;
            }
            match dir.close() {
                Ok(()) => ctx.mark("4. temporary directory removed"),
                Err(e) => {
                    let e = SetupError::new("cannot remove the files", e);
                    ctx.setup_failed("clean up", e).await
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
            let e = SetupError::new("cannot read the log back", e);
            ctx.setup_failed("check log", e).await
        }
    }
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
            let e = SetupError::new(format!("cannot create {}", log.display()), e);
            ctx.setup_failed("flusher", e).await;
            return None;
        }
    };
    let shutdown = CancellationToken::new();
    let (log_tx, log_rx) = mpsc::unbounded_channel();
    let mut clients = JoinSet::new();
    let signal = ctx.spawn(
        "shutdown signal",
        shown::wait_for_signal(
            ctx.clone(),
            cfg.shutdown_at_ms,
            ctx.os_signals(),
            shutdown.clone(),
        ),
    );
    let server = ctx.spawn(
        "server",
        shown::serve(
            ctx.clone(),
            listener,
            cfg.grace_ms,
            log_tx,
            shutdown.clone(),
        ),
    );
    let flusher = ctx.spawn(
        "flusher",
        shown::flusher(ctx.clone(), file, log_rx, cfg.flush_every_ms),
    );
    for (i, work) in cfg.request_ms.iter().enumerate() {
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
