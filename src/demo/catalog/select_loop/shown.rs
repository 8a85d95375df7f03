use std::io;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream};
use tokio::time::{Instant, Interval, interval_at};

use crate::demo::Ctx;

/// The reading end of the stream the items arrive on, one per line: `item 1\n`, `item 2\n`, …
pub type Reader = BufReader<DuplexStream>;

/// What the loop saw.
#[derive(Default)]
pub struct Tally {
    pub received: u64,
    pub fragments: u64,
    pub ticks: u64,
}

impl Tally {
    fn take(&mut self, ctx: &Ctx, item: &[u8]) {
        if item.starts_with(b"item ") && item.ends_with(b"\n") {
            self.received += 1;
            ctx.mark("item received");
        } else {
            // The second half of an item whose first half was lost.
            self.fragments += 1;
            ctx.mark("fragment discarded");
        }
    }

    fn tick(&mut self, ctx: &Ctx) {
        self.ticks += 1;
        ctx.mark("tick");
    }
}

/// The other branch: a periodic tick (a heartbeat, a flush, a status line).
fn ticker(every: Duration) -> Interval {
    interval_at(Instant::now() + every, every)
}

/// The bytes of the item being read so far. They live inside the future that reads the item:
/// dropped before the newline arrives, they are gone, and the item with them.
struct Partial<'a> {
    ctx: &'a Ctx,
    bytes: Vec<u8>,
}

impl Drop for Partial<'_> {
    fn drop(&mut self) {
        if !self.bytes.is_empty() {
            self.ctx.mark("item lost with the dropped future");
        }
    }
}

/// Reads one item, up to its newline; None at the end of the stream. Not cancel-safe: its
/// progress is a local of this future.
async fn read_item(ctx: &Ctx, rd: &mut Reader) -> io::Result<Option<Vec<u8>>> {
    let mut partial = Partial {
        ctx,
        bytes: Vec::new(),
    };
    let n = rd.read_until(b'\n', &mut partial.bytes).await?;
    Ok((n > 0).then(|| std::mem::take(&mut partial.bytes)))
}

pub async fn recreated(ctx: &Ctx, mut rd: Reader, tick: Duration) -> io::Result<Tally> {
    let mut ticker = ticker(tick);
    let mut tally = Tally::default();
    loop {
        tokio::select! {
            // biased: read first, so bytes that already arrived are always taken.
            biased;
            // A new read_item future every time round. When the tick wins, this one is dropped,
            // with the half item it holds.
            item = read_item(ctx, &mut rd) => match item? {
                Some(item) => tally.take(ctx, &item),
                None => break,
            },
            _ = ticker.tick() => tally.tick(ctx),
        }
    }
    Ok(tally)
}

/// read_item for a read that stays in flight across rounds: it owns the reader and hands it
/// back with the item.
async fn read_next(ctx: &Ctx, mut rd: Reader) -> (Reader, io::Result<Option<Vec<u8>>>) {
    let item = read_item(ctx, &mut rd).await;
    (rd, item)
}

pub async fn pinned(ctx: &Ctx, rd: Reader, tick: Duration) -> io::Result<Tally> {
    let mut ticker = ticker(tick);
    let mut tally = Tally::default();
    // Created once, outside the loop: when the tick wins, the read is left half-done but alive.
    let mut next = Box::pin(read_next(ctx, rd));
    loop {
        tokio::select! {
            biased;
            (rd, item) = &mut next => {
                match item? {
                    Some(item) => tally.take(ctx, &item),
                    None => break,
                }
                // The next read starts only now, after this one completed.
                next = Box::pin(read_next(ctx, rd));
            }
            _ = ticker.tick() => tally.tick(ctx),
        }
    }
    Ok(tally)
}

pub async fn buffer_outside(ctx: &Ctx, mut rd: Reader, tick: Duration) -> io::Result<Tally> {
    let mut ticker = ticker(tick);
    let mut tally = Tally::default();
    // The progress lives out here. read_until appends what it has read as it goes, so a read
    // dropped half-way loses nothing: the next one carries on where it stopped.
    let mut item = Vec::new();
    loop {
        tokio::select! {
            biased;
            n = rd.read_until(b'\n', &mut item) => {
                if n? == 0 {
                    break;
                }
                tally.take(ctx, &item);
                item.clear();
            }
            _ = ticker.tick() => tally.tick(ctx),
        }
    }
    Ok(tally)
}
