//! B6: write versus drain. A writer sends chunks over a loopback TCP connection to a reader that
//! takes a little at a time and pauses between reads. Without waiting, everything the reader has
//! not taken piles up in the writer's process; waiting for the kernel (asyncio's `drain`, tokio's
//! `write_all`) keeps it bounded and makes the writer wait instead.

mod shown;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, SetupError, VariantSpec, params, variants,
};

pub struct SlowReader;

variants! {
    pub enum Variant {
        NoDrain => VariantSpec::real(
            "no-drain",
            "the writer hands every chunk to an unbounded channel and never waits; a socket \
             writer task empties it (asyncio: write without drain)",
        ),
        Drain => VariantSpec::real(
            "drain",
            "the writer awaits write_all on the socket, which returns once the kernel has taken \
             the chunk (asyncio: write, then await drain)",
        ),
    }
}

params! {
    #[derive(Clone)]
    // At most 2 MiB, read 1 KiB every 10 ms at the slowest: a run stays well under a minute.
    pub struct Config {
        chunks: usize = Int(1..=64), "32", "chunks the writer sends";
        chunk_kb: usize = Int(1..=32), "16", "size of each chunk, in KiB";
        read_kb: usize = Int(1..=64), "4", "the most the reader takes from the socket per read, in KiB";
        read_every_ms: Duration = Ms(0..=10), "2", "the reader's pause before each read";
    }
}

impl Config {
    fn chunk_bytes(&self) -> usize {
        self.chunk_kb * 1024
    }
}

/// The kernel buffers asked for on both sockets (Linux doubles it, and keeps a minimum): small, so
/// a few hundred KiB are far more than they hold.
const SOCKET_BUFFER: u32 = 4096;

static SPEC: DemoSpec = DemoSpec {
    id: "slow-reader",
    title: "write versus drain: a writer and a slow reader over TCP",
    about: "A writer sends `chunks` chunks over a loopback TCP connection with small kernel \
            buffers; the reader takes at most `read_kb` at a time and pauses before each read. \
            no-drain: the writer never waits and is done at once, while what the reader has not \
            taken piles up in the writer's process (buffered_kb). drain: the writer waits for the \
            kernel to take each chunk, its lane shows the waits, and the buffer stays bounded.",
    variants: Variant::SPECS,
    default_variants: &[Variant::NoDrain.name(), Variant::Drain.name()],
    params: Config::PARAMS,
    metrics: &[
        (
            "max_buffered_kb",
            "most KiB the writer's process held that the kernel had not yet taken",
        ),
        (
            "writer_waits",
            "times the writer's lane waited (polls after its first; 0: it never waited)",
        ),
        ("read_kb", "KiB the reader received, all of them"),
    ],
    source: include_str!("slow_reader/shown.rs"),
    source_file: "src/demo/catalog/slow_reader/shown.rs",
};

impl DemoProgram for SlowReader {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            let (write_end, read_end) = match connect(&ctx).await {
                Ok(pair) => pair,
                Err(e) => return ctx.setup_failed("connect", e).await,
            };
            let buffered = Buffered::new(&ctx);
            let writer = {
                let (ctx2, cfg, buffered) = (ctx.clone(), cfg.clone(), buffered.clone());
                ctx.spawn("writer", async move {
                    match variant {
                        Variant::NoDrain => {
                            shown::write_without_waiting(&ctx2, write_end, &cfg, buffered)
                        }
                        Variant::Drain => {
                            shown::write_and_wait(&ctx2, write_end, &cfg, buffered).await
                        }
                    }
                })
            };
            let reader = {
                let (ctx2, cfg) = (ctx.clone(), cfg.clone());
                ctx.spawn("reader", async move {
                    shown::read_slowly(&ctx2, read_end, &cfg).await
                })
            };
            let _ = writer.await;
            let _ = reader.await;
            ctx.metric("max_buffered_kb", kib(buffered.max()));
            let polls = ctx
                .recorder()
                .snapshot()
                .task("writer")
                .map_or(0, |t| t.polls.len());
            ctx.metric("writer_waits", polls.saturating_sub(1));
        }
        .boxed()
    }
}

/// A listener and a client socket on 127.0.0.1 with small kernel buffers (the accepted socket
/// inherits the listener's): the writer's end and the reader's end of one connection.
async fn connect(ctx: &Ctx) -> Result<(TcpStream, TcpStream), SetupError> {
    let listener = listen().map_err(|e| SetupError::new("cannot listen on 127.0.0.1", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| SetupError::new("no address", e))?;
    ctx.metric("port", addr.port());
    let client = async {
        let socket = TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(SOCKET_BUFFER)?;
        socket.connect(addr).await
    };
    let (accepted, read_end) = tokio::join!(listener.accept(), client);
    let read_end = read_end.map_err(|e| SetupError::new("cannot connect", e))?;
    let (write_end, _) = accepted.map_err(|e| SetupError::new("cannot accept", e))?;
    // Each chunk goes as soon as the window allows, not held back for an acknowledgement.
    let _ = write_end.set_nodelay(true);
    Ok((write_end, read_end))
}

fn listen() -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_send_buffer_size(SOCKET_BUFFER)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.listen(1)
}

/// Bytes the writer has handed over that the kernel has not yet taken, recorded as the
/// `buffered_kb` series (rounded up to whole KiB) on every change; clones share the count.
#[derive(Clone)]
pub struct Buffered {
    ctx: Ctx,
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

impl Buffered {
    fn new(ctx: &Ctx) -> Buffered {
        ctx.series("buffered_kb", 0usize);
        Buffered {
            ctx: ctx.clone(),
            now: Arc::default(),
            max: Arc::default(),
        }
    }

    pub fn add(&self, bytes: usize) {
        let now = self.now.fetch_add(bytes, Ordering::SeqCst) + bytes;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.ctx.series("buffered_kb", kib(now));
    }

    pub fn sub(&self, bytes: usize) {
        let now = self
            .now
            .fetch_sub(bytes, Ordering::SeqCst)
            .saturating_sub(bytes);
        self.ctx.series("buffered_kb", kib(now));
    }

    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

/// Whole KiB, rounded up: a byte left is not nothing.
fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}
