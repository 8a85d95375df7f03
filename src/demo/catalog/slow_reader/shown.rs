use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Buffered, Config};
use crate::demo::{Ctx, Ended};

/// `no-drain`, like asyncio's `writer.write(chunk)` with no `await writer.drain()`. A TcpStream
/// has no buffer of its own in the process, so the closest is a queue that never says no: the
/// writer hands each chunk to an unbounded channel and goes straight on; a task of its own (what
/// asyncio's transport does in the event loop) writes them to the socket as the kernel takes
/// them. The writer never waits, and whatever the reader has not taken piles up in memory.
pub fn write_without_waiting(
    ctx: &Ctx,
    mut stream: TcpStream,
    cfg: &Config,
    buffered: Buffered,
) -> Ended {
    let (queue, mut chunks) = mpsc::unbounded_channel::<Vec<u8>>();
    let taken = buffered.clone();
    let socket_writer = async move {
        while let Some(chunk) = chunks.recv().await {
            // Waits while the kernel's buffers are full: only this task waits, not the writer.
            if let Err(e) = stream.write_all(&chunk).await {
                return Ended::error(format!("write failed: {e}"));
            }
            taken.sub(chunk.len());
        }
        // The queue is empty and closed: the reader's next read sees the end of the stream.
        match stream.shutdown().await {
            Ok(()) => Ended::ok("every chunk sent"),
            Err(e) => Ended::error(format!("shutdown failed: {e}")),
        }
    };
    // Not awaited: waiting for it would be waiting for the reader. It ends by itself once the
    // queue is empty and closed.
    drop(ctx.spawn("socket writer", socket_writer));
    for _ in 0..cfg.chunks {
        // Never waits, however far behind the reader is.
        if queue.send(vec![b'x'; cfg.chunk_bytes()]).is_err() {
            return Ended::error("the socket writer is gone");
        }
        buffered.add(cfg.chunk_bytes());
    }
    ctx.mark("all written");
    Ended::ok(format!(
        "{} chunks handed over, none waited for",
        cfg.chunks
    ))
}

/// `drain`, like `writer.write(chunk)` then `await writer.drain()`. `write_all` returns only once
/// the kernel has taken every byte: when the slow reader has let the socket buffers fill, the
/// writer waits here, and the process never holds more than the chunk being written.
pub async fn write_and_wait(
    ctx: &Ctx,
    mut stream: TcpStream,
    cfg: &Config,
    buffered: Buffered,
) -> Ended {
    for _ in 0..cfg.chunks {
        let chunk = vec![b'x'; cfg.chunk_bytes()];
        buffered.add(chunk.len());
        if let Err(e) = stream.write_all(&chunk).await {
            return Ended::error(format!("write failed: {e}"));
        }
        buffered.sub(chunk.len());
    }
    ctx.mark("all written");
    // Our side is done: the reader's next read sees the end of the stream.
    if let Err(e) = stream.shutdown().await {
        return Ended::error(format!("shutdown failed: {e}"));
    }
    Ended::ok(format!("{} chunks written", cfg.chunks))
}

/// The slow reader: a pause, then at most `read_kb` from the socket, until the end of the stream.
pub async fn read_slowly(ctx: &Ctx, mut stream: TcpStream, cfg: &Config) -> Ended {
    let mut buf = vec![0u8; cfg.read_kb * 1024];
    let (mut total, mut reads) = (0, 0);
    loop {
        tokio::time::sleep(cfg.read_every_ms).await;
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => (total, reads) = (total + n, reads + 1),
            Err(e) => return Ended::error(format!("read failed: {e}")),
        }
    }
    ctx.mark("end of stream");
    ctx.metric("read_kb", total / 1024);
    Ended::ok(format!("{} KiB in {reads} reads", total / 1024))
}
