//! A loopback HTTP/1.1 server (hyper) tied to the run that starts it.
//!
//! The listener is a task spawned through the run's `Ctx`, so it is a lane of the timeline and
//! the engine ends it with the run. It stops, closing its port and every connection, on
//! [`Server::stop`], when its handle is dropped, or when the run ends or is cancelled.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::demo::{Ctx, Ended, SetupError};

/// Response header: the number of the server connection that served the request (1, 2, ...).
pub const CONN_HEADER: &str = "x-conn";
/// Response header: how many requests that connection had served, this one included.
pub const CONN_REQUEST_HEADER: &str = "x-conn-request";

pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;
pub type Request = hyper::Request<Incoming>;
pub type Response = hyper::Response<Body>;

/// What answers the requests.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, req: Request) -> BoxFuture<'static, Response>;
}

impl<F> Handler for F
where
    F: Fn(Request) -> BoxFuture<'static, Response> + Send + Sync + 'static,
{
    fn handle(&self, req: Request) -> BoxFuture<'static, Response> {
        self(req)
    }
}

/// A response with a whole body.
pub fn full(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut resp = hyper::Response::new(
        Full::new(body.into())
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp
}

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut resp = full(status, body.into());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// How a server shows itself on the timeline.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen: loopback only; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Each accepted connection as a lane of its own (`conn 1`, `conn 2`, ...); otherwise the
    /// connections are driven inside the server's own lane.
    pub conn_lanes: bool,
    /// A series counting the connections open on the server side.
    pub conn_series: Option<&'static str>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            conn_lanes: false,
            conn_series: None,
        }
    }
}

/// What the server counted.
#[derive(Debug, Default)]
pub struct Stats {
    accepted: AtomicU64,
    open: AtomicUsize,
    requests: AtomicU64,
}

/// A running server. Dropping the handle stops it.
pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: CancellationToken,
    _guard: DropGuard,
    task: Option<JoinHandle<Ended>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Bind (loopback only), then serve in a lane named `name`. A port that cannot be bound is
    /// a [`SetupError`] and starts no lane: the caller reports it, as every setup failure is
    /// reported, with [`Ctx::setup_failed`].
    pub async fn start(
        ctx: &Ctx,
        name: impl Into<String>,
        options: Options,
        handler: impl Handler,
    ) -> Result<Server, SetupError> {
        if !options.addr.ip().is_loopback() {
            return Err(SetupError::new(
                format!("refusing to listen on {}", options.addr),
                "the demos' servers listen on loopback only",
            ));
        }
        let listener = TcpListener::bind(options.addr)
            .await
            .map_err(|e| SetupError::new(format!("cannot listen on {}", options.addr), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SetupError::new("cannot read the listening address", e))?;
        let stats = Arc::new(Stats::default());
        let stop = CancellationToken::new();
        let (ready_tx, ready_rx) = oneshot::channel();
        let task = ctx.spawn(
            name,
            serve(
                ctx.clone(),
                listener,
                options,
                Arc::new(handler),
                Arc::clone(&stats),
                stop.clone(),
                ready_tx,
            ),
        );
        // The lane has marked that it listens before any client of the caller's can connect.
        ready_rx
            .await
            .map_err(|_| SetupError::new("the server task ended", "before it could listen"))?;
        Ok(Server {
            addr,
            stats,
            _guard: stop.clone().drop_guard(),
            stop,
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.stats.accepted.load(Ordering::SeqCst)
    }

    /// Connections open right now.
    pub fn open(&self) -> usize {
        self.stats.open.load(Ordering::SeqCst)
    }

    /// Requests served (or being served) so far.
    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// Stop: close the listener and every connection, and wait for the server's lane to end.
    pub async fn stop(mut self) -> Ended {
        self.stop.cancel();
        match self.task.take() {
            Some(task) => task
                .await
                .unwrap_or_else(|e| Ended::error(format!("server task: {e}"))),
            None => Ended::ok(""),
        }
    }
}

async fn serve(
    ctx: Ctx,
    listener: TcpListener,
    options: Options,
    handler: Arc<dyn Handler>,
    stats: Arc<Stats>,
    stop: CancellationToken,
    ready: oneshot::Sender<()>,
) -> Ended {
    // `start` read the address already; this cannot fail on a bound listener.
    let addr = listener.local_addr().unwrap_or(options.addr);
    ctx.mark(format!("listening on {addr}"));
    if ready.send(()).is_err() {
        return Ended::cancelled("nobody waited for the server to start");
    }
    let mut inline = FuturesUnordered::new();
    let mut lanes = JoinSet::new();
    let mut accept_errors = 0u64;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            accepted = accept(&listener) => match accepted {
                Ok(stream) => {
                    let id = stats.accepted.fetch_add(1, Ordering::SeqCst) + 1;
                    let conn = connection(
                        ctx.clone(),
                        options.conn_series,
                        id,
                        stream,
                        Arc::clone(&handler),
                        Arc::clone(&stats),
                        stop.clone(),
                    );
                    if options.conn_lanes {
                        ctx.spawn_in(&mut lanes, format!("conn {id}"), conn);
                    } else {
                        inline.push(conn);
                    }
                }
                Err(e) => {
                    accept_errors += 1;
                    if accept_errors == 1 {
                        ctx.mark(format!("accept failed: {e}"));
                    }
                }
            },
            Some(_) = inline.next(), if !inline.is_empty() => {}
            Some(_) = lanes.join_next(), if !lanes.is_empty() => {}
        }
    }
    // The port is closed from here on; the connections saw `stop` too and are ending.
    drop(listener);
    while inline.next().await.is_some() {}
    while lanes.join_next().await.is_some() {}
    let errors = if accept_errors > 0 {
        format!(", {accept_errors} failed accepts")
    } else {
        String::new()
    };
    Ended::ok(format!(
        "{} connections, {} requests{errors}",
        stats.accepted.load(Ordering::SeqCst),
        stats.requests.load(Ordering::SeqCst)
    ))
}

/// Accept one connection; after a failure (too many open files, say) wait a little before the
/// error is reported, so a persistent failure does not spin.
async fn accept(listener: &TcpListener) -> std::io::Result<TcpStream> {
    match listener.accept().await {
        Ok((stream, _peer)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Err(e) => {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Err(e)
        }
    }
}

async fn connection(
    ctx: Ctx,
    series: Option<&'static str>,
    id: u64,
    stream: TcpStream,
    handler: Arc<dyn Handler>,
    stats: Arc<Stats>,
    stop: CancellationToken,
) -> Ended {
    let open = stats.open.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(name) = series {
        ctx.series(name, open);
    }
    let served = Arc::new(AtomicU64::new(0));
    let service = {
        let served = Arc::clone(&served);
        let stats = Arc::clone(&stats);
        service_fn(move |req: Request| {
            let nth = served.fetch_add(1, Ordering::SeqCst) + 1;
            stats.requests.fetch_add(1, Ordering::SeqCst);
            let response = handler.handle(req);
            async move {
                let mut resp = response.await;
                let headers = resp.headers_mut();
                headers.insert(CONN_HEADER, HeaderValue::from(id));
                headers.insert(CONN_REQUEST_HEADER, HeaderValue::from(nth));
                Ok::<_, Infallible>(resp)
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    let detail = tokio::select! {
        result = conn => match result {
            Ok(()) => "closed by the client".to_owned(),
            Err(e) => format!("closed: {e}"),
        },
        // Dropping the connection closes its socket.
        () = stop.cancelled() => "closed by the server's shutdown".to_owned(),
    };
    let open = stats.open.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
    if let Some(name) = series {
        ctx.series(name, open);
    }
    Ended::ok(format!(
        "{} requests; {detail}",
        served.load(Ordering::SeqCst)
    ))
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;
    use crate::demo::Clock;
    use crate::demo::recorder::Recorder;
    use crate::demo::services::{ConnTag, client, endpoints, request_error};
    use crate::demo::timeline::Outcome;

    fn with_ctx<F: Future>(f: impl FnOnce(Ctx) -> F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let rec = rt.block_on(async { Recorder::new() });
        let ctx = Ctx::new(rec, Clock::Real, "test");
        rt.block_on(f(ctx))
    }

    #[test]
    fn a_port_that_cannot_be_bound_is_a_setup_error_the_caller_reports_once() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = taken.local_addr().expect("addr");
        with_ctx(|ctx| async move {
            let options = Options {
                addr,
                ..Options::default()
            };
            let err = Server::start(&ctx, "server", options, endpoints::handler())
                .await
                .expect_err("the port is taken");
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("cannot listen on {addr}")),
                "{text}"
            );
            // Nothing started, nothing failed yet: the one report is the caller's.
            assert!(ctx.recorder().snapshot().tasks.is_empty());
            assert_eq!(ctx.recorder().run_error(), None);
            ctx.setup_failed("server", err.clone()).await;
            let snap = ctx.recorder().snapshot();
            let lane = snap.task("server").expect("lane");
            assert_eq!(lane.outcome, Outcome::Error);
            assert_eq!(lane.detail, text);
            assert_eq!(snap.tasks.len(), 1);
            assert_eq!(ctx.recorder().run_error(), Some(err));
        });
    }

    #[test]
    fn only_loopback_is_ever_bound() {
        with_ctx(|ctx| async move {
            let options = Options {
                addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
                ..Options::default()
            };
            let err = Server::start(&ctx, "server", options, endpoints::handler())
                .await
                .expect_err("refused")
                .to_string();
            assert!(err.contains("loopback only"), "{err}");
        });
    }

    #[test]
    fn connections_are_tagged_and_a_stopped_server_fails_requests_cleanly() {
        with_ctx(|ctx| async move {
            let server = Server::start(&ctx, "server", Options::default(), endpoints::handler())
                .await
                .expect("start");
            let client = client().expect("client");
            for nth in 1..=3 {
                let resp = client
                    .get(server.url("/data?id=1&size=100"))
                    .send()
                    .await
                    .expect("served");
                assert_eq!(ConnTag::of(&resp), Some(ConnTag { conn: 1, nth }));
                assert_eq!(resp.bytes().await.expect("body").len(), 100);
            }
            assert_eq!(server.accepted(), 1);
            assert_eq!(server.requests(), 3);
            let bad = client
                .get(server.url("/data?latency_ms=999999"))
                .send()
                .await
                .expect("answered");
            assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
            let addr = server.addr();
            let url = server.url("/data");
            let ended = server.stop().await;
            assert!(ended.is_ok(), "{ended:?}");
            assert!(std::net::TcpStream::connect(addr).is_err(), "port closed");
            let err = client.get(url).send().await.expect_err("nobody listens");
            assert!(!request_error(err).is_empty());
        });
    }

    #[test]
    fn large_bodies_stream_the_same_bytes_as_content() {
        with_ctx(|ctx| async move {
            let server = Server::start(&ctx, "server", Options::default(), endpoints::handler())
                .await
                .expect("start");
            let client = client().expect("client");
            let size = 200_000;
            let body = client
                .get(server.url(&format!("/data?id=9&seed=4&size={size}")))
                .send()
                .await
                .expect("served")
                .bytes()
                .await
                .expect("body");
            assert_eq!(
                body.as_ref(),
                crate::demo::services::content(4, 9, size).as_slice()
            );
            server.stop().await;
        });
    }
}
