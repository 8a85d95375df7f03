use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Url;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::demo::ctx::Gauge;
use crate::demo::services;
use crate::demo::{Ctx, Ended};

/// What the crawl has found so far.
#[derive(Default, Clone)]
struct Found {
    fetched: usize,
    broken: Vec<String>,
    offsite: usize,
}

/// The crawl's shared state: one queue, one visited set, one count of pages not yet done.
pub struct Crawl {
    ctx: Ctx,
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT`: links elsewhere are not followed.
    origin: String,
    max_pages: usize,
    /// Marked when a URL is *queued*, not when it is fetched: no URL can be queued twice, even
    /// by two workers reading pages that link to it at the same moment.
    visited: Mutex<HashSet<String>>,
    tx: mpsc::UnboundedSender<(Url, String)>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<(Url, String)>>,
    /// Queued or being fetched. When it drops to zero nothing more can ever be queued.
    pending: AtomicUsize,
    done: CancellationToken,
    queued: AtomicUsize,
    in_flight: Gauge,
    found: Mutex<Found>,
}

impl Crawl {
    pub fn new(ctx: &Ctx, client: reqwest::Client, start: Url, max_pages: usize) -> Crawl {
        let (tx, rx) = mpsc::unbounded_channel();
        Crawl {
            ctx: ctx.clone(),
            client,
            origin: start.origin().ascii_serialization(),
            max_pages,
            visited: Mutex::default(),
            tx,
            rx: tokio::sync::Mutex::new(rx),
            pending: AtomicUsize::new(0),
            done: CancellationToken::new(),
            queued: AtomicUsize::new(0),
            in_flight: ctx.gauge("in_flight"),
            found: Mutex::default(),
        }
    }

    /// Queue `url` (found on page `from`) unless it is off-site, already seen, or over budget.
    pub fn enqueue(&self, mut url: Url, from: &str) {
        url.set_fragment(None); // `/page/3#top` is `/page/3`
        if url.origin().ascii_serialization() != self.origin {
            if let Ok(mut found) = self.found.lock() {
                found.offsite += 1;
            }
            return;
        }
        let Ok(mut visited) = self.visited.lock() else {
            return;
        };
        if visited.len() >= self.max_pages || !visited.insert(url.to_string()) {
            return;
        }
        drop(visited);
        self.pending.fetch_add(1, Ordering::SeqCst);
        self.queue_changed(1);
        let _ = self.tx.send((url, from.to_owned()));
    }

    fn queue_changed(&self, delta: isize) {
        let n = if delta > 0 {
            self.queued.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            self.queued.fetch_sub(1, Ordering::SeqCst).saturating_sub(1)
        };
        self.ctx.series("queue_depth", n);
    }

    /// The next URL to fetch; `None` once the queue is empty and no page is being fetched.
    async fn next(&self) -> Option<(Url, String)> {
        let item = tokio::select! {
            () = self.done.cancelled() => None,
            item = async { self.rx.lock().await.recv().await } => item,
        };
        if item.is_some() {
            self.queue_changed(-1);
        }
        item
    }

    /// Fetch one page, queue its links, then count it done.
    async fn visit(&self, url: Url, from: String) -> Ended {
        self.in_flight.enter();
        let page = async {
            let resp = self.client.get(url.clone()).send().await?;
            let status = resp.status();
            Ok::<_, reqwest::Error>((status, resp.text().await?))
        }
        .await;
        self.in_flight.leave();
        let ended = match page {
            Ok((status, html)) if status.is_success() => {
                for href in hrefs(&html) {
                    if let Ok(link) = url.join(href) {
                        self.enqueue(link, url.path());
                    }
                }
                Ended::ok(format!("{status}"))
            }
            Ok((status, _)) => {
                let broken = format!("{} (linked from {from})", url.path());
                self.ctx.mark(format!("broken link {broken}"));
                if let Ok(mut found) = self.found.lock() {
                    found.broken.push(broken);
                }
                Ended::error(format!("{status}: broken link from {from}"))
            }
            Err(e) => Ended::error(services::request_error(e)),
        };
        if let Ok(mut found) = self.found.lock() {
            found.fetched += 1;
        }
        // Its links are queued first, so `pending` cannot touch zero while work remains.
        if self.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.done.cancel();
        }
        ended
    }

    /// The crawl's metrics, `secs` after it started.
    pub fn report(&self, secs: f64) {
        let Ok(found) = self.found.lock().map(|f| f.clone()) else {
            return;
        };
        let ctx = &self.ctx;
        ctx.metric("pages_fetched", found.fetched);
        ctx.metric("broken_links", found.broken.len());
        ctx.metric("broken", found.broken);
        ctx.metric("offsite_links_skipped", found.offsite);
        ctx.metric("max_in_flight", self.in_flight.max());
        let rate = found.fetched as f64 / secs.max(1e-9);
        ctx.metric("pages_per_s", (rate * 10.0).round() / 10.0);
    }
}

/// Every `href="..."` on a page.
fn hrefs(html: &str) -> impl Iterator<Item = &str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
}

/// The guide's loop: one page at a time, so never more than one request in flight.
pub async fn sequential(crawl: &Crawl) {
    while let Some((url, from)) = crawl.next().await {
        let lane = format!("GET {}", url.path());
        crawl.ctx.instrument(lane, crawl.visit(url, from)).await;
    }
}

/// `n` workers take URLs from the shared queue until `next` says the crawl is over.
pub async fn with_workers(crawl: &Arc<Crawl>, n: usize) {
    let mut workers = tokio::task::JoinSet::new();
    for w in 1..=n {
        let mine = Arc::clone(crawl);
        let worker = async move {
            let mut pages = 0;
            while let Some((url, from)) = mine.next().await {
                let lane = format!("GET {}", url.path());
                mine.ctx.instrument(lane, mine.visit(url, from)).await;
                pages += 1;
            }
            Ended::ok(format!("{pages} pages"))
        };
        crawl
            .ctx
            .spawn_in(&mut workers, format!("worker {w}"), worker);
    }
    while workers.join_next().await.is_some() {}
}
