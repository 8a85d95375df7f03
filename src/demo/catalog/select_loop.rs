//! Q7: `select!` in a loop drops the losing branch's future every time round. A read that keeps
//! its progress inside that future loses it; pinned outside the loop, or with its buffer
//! outside, it loses nothing.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::io::{AsyncWriteExt, BufReader, DuplexStream};
use tokio::time::Instant;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, Ended, FromParams, VariantSpec, params, variants,
};

pub struct SelectLoop;

variants! {
    pub enum Variant {
        Recreated => VariantSpec::single(
            "recreated",
            "the item reader is created inside the loop: a tick mid-item drops its half item",
        ),
        Pinned => VariantSpec::single(
            "pinned",
            "one read pinned outside the loop, selected by &mut: a tick leaves it alive",
        ),
        BufferOutside => VariantSpec::single(
            "buffer-outside",
            "read_until into a buffer that lives outside the loop: nothing read is lost",
        ),
    }
}

params! {
    #[derive(Clone)]
    pub struct Config {
        // The ranges keep a run under 1,000 s, so at most 100,000 ticks are recorded.
        items: usize = Int(1..=100), "6", "how many items the sender sends";
        every_ms: Duration = Ms(1..=10_000), "100", "a new item starts every every_ms";
        item_ms: Duration = Ms(0..=10_000), "50",
            "an item's first half arrives when it starts, the rest item_ms later";
        tick_ms: Duration = Ms(10..=60_000), "120",
            "the loop's other branch: a tick every tick_ms";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "select-loop",
    title: "select! in a loop: cancel safety",
    about: "Items arrive on a byte stream one line at a time, each in two halves item_ms apart, \
            while the loop also ticks every tick_ms. A tick between an item's halves drops the \
            reading future: recreated each round, it takes the half item with it; pinned \
            outside the loop, or reading into a buffer outside it, nothing is lost. (A tick at \
            the very instant a half arrives is a race between two tasks: the defaults avoid it.)",
    variants: Variant::SPECS,
    default_variants: &[Variant::Recreated.name(), Variant::Pinned.name()],
    params: Config::PARAMS,
    metrics: &[
        ("items_sent", "items the sender wrote, whole"),
        ("items_received", "whole items the loop read"),
        ("items_lost", "items sent but never received whole"),
        ("ticks", "times the tick branch won"),
    ],
    source: include_str!("select_loop/shown.rs"),
    source_file: "src/demo/catalog/select_loop/shown.rs",
};

impl DemoProgram for SelectLoop {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            // Far larger than what is ever in flight: the sender never waits for the reader.
            let (wr, rd) = tokio::io::duplex(64 * 1024);
            let rd = BufReader::new(rd);
            let sent = Arc::new(AtomicU64::new(0));
            let peer = send(wr, cfg.clone(), Arc::clone(&sent));
            let sender = ctx.spawn("sender", peer);
            let mut tally = None;
            let reader = async {
                let read = match variant {
                    Variant::Recreated => shown::recreated(&ctx, rd, cfg.tick_ms).await,
                    Variant::Pinned => shown::pinned(&ctx, rd, cfg.tick_ms).await,
                    Variant::BufferOutside => shown::buffer_outside(&ctx, rd, cfg.tick_ms).await,
                };
                let ended = match &read {
                    Ok(t) => Ended::ok(format!("{} whole items", t.received)),
                    Err(e) => Ended::error(format!("read failed: {e}")),
                };
                tally = read.ok();
                ended
            };
            ctx.instrument("reader", reader).await;
            // The reader stops at the end of the stream, which the sender closes when done.
            let _ = sender.await;
            let sent = sent.load(Ordering::SeqCst);
            let tally = tally.unwrap_or_default();
            ctx.metric("items_sent", sent);
            ctx.metric("items_received", tally.received);
            ctx.metric("items_lost", sent.saturating_sub(tally.received));
            ctx.metric("ticks", tally.ticks);
        }
        .boxed()
    }
}

/// The peer: item k is written in two halves, the first at (k - 1) * every_ms, the rest
/// item_ms later; then the stream is closed.
async fn send(mut wr: DuplexStream, cfg: Config, sent: Arc<AtomicU64>) -> Ended {
    let mut start = Instant::now();
    for k in 1..=cfg.items {
        tokio::time::sleep_until(start).await;
        start += cfg.every_ms;
        let item = format!("item {k}\n");
        let (first, rest) = item.as_bytes().split_at(item.len() / 2);
        if let Err(e) = wr.write_all(first).await {
            return Ended::error(format!("write failed: {e}"));
        }
        tokio::time::sleep(cfg.item_ms).await;
        if let Err(e) = wr.write_all(rest).await {
            return Ended::error(format!("write failed: {e}"));
        }
        sent.fetch_add(1, Ordering::SeqCst);
    }
    Ended::ok(format!("{} items sent", cfg.items))
}
