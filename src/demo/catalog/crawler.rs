//! Q9: crawl a generated website served on 127.0.0.1: the guide's loop, which never has two
//! requests in flight, against N workers sharing one queue; a visited set, a same-site filter,
//! a page budget and broken links reported.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::services::server::{Options, Server};
use crate::demo::services::site::{Site, SiteConfig};
use crate::demo::services::{self, RUN_BUDGET};
use crate::demo::{
    Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, SetupError, VariantSpec,
};

pub struct Crawler;

static SPEC: DemoSpec = DemoSpec {
    id: "crawler",
    title: "A web crawler: one loop vs N workers",
    about: "Crawls a site the demo generates and serves on 127.0.0.1, from `/`, following \
            same-site links only. The guide's loop awaits one page at a time; N workers share \
            one queue and keep N pages in flight. Either way each URL is marked visited when \
            it is queued, so none is fetched twice, and broken links are reported.",
    variants: &[
        VariantSpec::real(
            "sequential",
            "the guide's loop: take a URL, await its page, queue its links, repeat",
        ),
        VariantSpec::real(
            "workers",
            "`workers` tasks take URLs from one shared queue until none is left",
        ),
    ],
    default_variants: &["sequential", "workers"],
    params: &[
        ParamSpec {
            name: "pages",
            kind: ParamKind::Int { min: 1, max: 2000 },
            default: "30",
            help: "pages on the generated site",
        },
        ParamSpec {
            name: "links",
            kind: ParamKind::Int { min: 1, max: 10 },
            default: "3",
            help: "links on each page",
        },
        ParamSpec {
            name: "broken_pct",
            kind: ParamKind::Int { min: 0, max: 50 },
            default: "10",
            help: "percent of links that point to a page that does not exist",
        },
        ParamSpec {
            name: "offsite_pct",
            kind: ParamKind::Int { min: 0, max: 50 },
            default: "10",
            help: "percent of links to another site (never fetched)",
        },
        ParamSpec {
            name: "max_pages",
            kind: ParamKind::Int { min: 1, max: 2000 },
            default: "100",
            help: "the crawl's page budget: URLs fetched at most",
        },
        ParamSpec {
            name: "workers",
            kind: ParamKind::Int { min: 1, max: 64 },
            default: "5",
            help: "concurrent workers (variant workers)",
        },
        ParamSpec {
            name: "latency_ms",
            kind: ParamKind::Ms { min: 0, max: 2000 },
            default: "50",
            help: "how long the server takes to answer each page",
        },
        ParamSpec {
            name: "seed",
            kind: ParamKind::Int {
                min: 0,
                max: 1_000_000,
            },
            default: "1",
            help: "the site's link graph",
        },
    ],
    metrics: &[
        ("pages_fetched", "URLs requested (each exactly once)"),
        ("broken_links", "same-site links that answered 404"),
        ("broken", "each broken link and the page that links to it"),
        (
            "offsite_links_skipped",
            "links to other sites, filtered out",
        ),
        ("pages_per_s", "pages fetched / the crawl's wall time"),
        ("max_in_flight", "most page requests in flight at once"),
        (
            "duplicate_fetches",
            "paths the server saw requested more than once",
        ),
        (
            "server_addr",
            "where the site was served (closed after the run)",
        ),
    ],
    source: include_str!("crawler.rs"),
    source_file: file!(),
};

impl LegacyDemo for Crawler {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let site = Arc::new(Site::generate(site_config(&params)));
        let max_pages = params.count("max_pages");
        let workers = params.count("workers").max(1);
        async move {
            let server = match Server::start(
                &ctx,
                "site server",
                Options::default(),
                site.handler(),
            )
            .await
            {
                Ok(server) => server,
                Err(e) => return ctx.setup_failed("site server", e).await,
            };
            ctx.metric("server_addr", server.addr().to_string());
            let start = match (services::client(), Url::parse(&server.url("/"))) {
                (Ok(client), Ok(start)) => (client, start),
                (Err(e), _) => return ctx.setup_failed("crawler", e).await,
                (_, Err(e)) => {
                    return ctx
                        .setup_failed("crawler", SetupError::new("start URL", e))
                        .await;
                }
            };
            let crawl = Arc::new(Crawl::new(&ctx, start.0, start.1.clone(), max_pages));
            crawl.enqueue(start.1, "(start)");
            let started = std::time::Instant::now();
            let work = async {
                match variant {
                    "sequential" => sequential(&crawl).await,
                    _ => with_workers(&crawl, workers).await,
                }
            };
            if tokio::time::timeout(RUN_BUDGET, work).await.is_err() {
                ctx.mark("time budget reached: the crawl stops");
            }
            let secs = started.elapsed().as_secs_f64();
            crawl.report(secs);
            let dups = site.hits().values().filter(|&&n| n > 1).count();
            ctx.metric("duplicate_fetches", dups);
            drop(crawl);
            server.stop().await;
        }
        .boxed()
    }
}

fn site_config(params: &Params) -> SiteConfig {
    SiteConfig {
        pages: params.count("pages"),
        links: params.count("links"),
        broken_pct: params.count("broken_pct") as u64,
        offsite_pct: params.count("offsite_pct") as u64,
        seed: params.int("seed") as u64,
        latency: params.ms("latency_ms"),
    }
}

impl Crawl {
    fn new(ctx: &Ctx, client: reqwest::Client, start: Url, max_pages: usize) -> Crawl {
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

    fn queue_changed(&self, delta: isize) {
        let n = if delta > 0 {
            self.queued.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            self.queued.fetch_sub(1, Ordering::SeqCst).saturating_sub(1)
        };
        self.ctx.series("queue_depth", n);
    }

    fn report(&self, secs: f64) {
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

// region:demo
use std::collections::HashSet;
use std::sync::Mutex;

use reqwest::Url;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::demo::ctx::Gauge;

/// What the crawl has found so far.
#[derive(Default, Clone)]
struct Found {
    fetched: usize,
    broken: Vec<String>,
    offsite: usize,
}

/// The crawl's shared state: one queue, one visited set, one count of pages not yet done.
struct Crawl {
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
    /// Queue `url` (found on page `from`) unless it is off-site, already seen, or over budget.
    fn enqueue(&self, mut url: Url, from: &str) {
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
}

/// Every `href="..."` on a page.
fn hrefs(html: &str) -> impl Iterator<Item = &str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
}

/// The guide's loop: one page at a time, so never more than one request in flight.
async fn sequential(crawl: &Crawl) {
    while let Some((url, from)) = crawl.next().await {
        let lane = format!("GET {}", url.path());
        crawl.ctx.instrument(lane, crawl.visit(url, from)).await;
    }
}

/// `n` workers take URLs from the shared queue until `next` says the crawl is over.
async fn with_workers(crawl: &Arc<Crawl>, n: usize) {
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
// endregion:demo

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use crate::demo::Outcome;
    use crate::demo::services::site::{Site, SiteConfig};
    use crate::demo::services::testing::{cancel_midway, clean, metric, ports_closed, run};
    use crate::demo::timeline::TimelineSnapshot;

    fn site(pages: usize, seed: u64) -> Site {
        Site::generate(SiteConfig {
            pages,
            links: 3,
            broken_pct: 10,
            offsite_pct: 10,
            seed,
            latency: Duration::ZERO,
        })
    }

    /// The paths fetched, in the order their lanes started.
    fn fetched(tl: &TimelineSnapshot) -> Vec<String> {
        tl.tasks
            .iter()
            .filter_map(|t| t.name.strip_prefix("GET ").map(str::to_owned))
            .collect()
    }

    fn is_broken(path: &str, pages: usize) -> bool {
        path.strip_prefix("/page/")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= pages)
    }

    #[test]
    fn both_crawls_visit_exactly_the_reachable_same_site_pages_once() {
        let sets = [
            "pages=40",
            "seed=2",
            "latency_ms=10",
            "workers=4",
            "max_pages=2000",
        ];
        let reachable = site(40, 2).reachable();
        let expected: BTreeSet<&str> = reachable.iter().map(String::as_str).collect();
        let broken = reachable.iter().filter(|p| is_broken(p, 40)).count();
        assert!(broken > 0, "seed 2 has reachable broken links");
        let report = run("crawler", &[], &sets);
        for r in &report.runs {
            clean(r);
            let v = r.variant;
            let tl = &r.timeline;
            let paths = fetched(tl);
            let unique: BTreeSet<&str> = paths.iter().map(String::as_str).collect();
            assert_eq!(unique.len(), paths.len(), "{v}: a page was fetched twice");
            assert_eq!(unique, expected, "{v}");
            assert_eq!(metric(tl, "pages_fetched"), reachable.len() as f64, "{v}");
            assert_eq!(metric(tl, "duplicate_fetches"), 0.0, "{v}");
            assert_eq!(metric(tl, "broken_links"), broken as f64, "{v}");
            let broken_lanes = tl
                .tasks
                .iter()
                .filter(|t| t.name.starts_with("GET ") && t.outcome == Outcome::Error)
                .count();
            assert_eq!(broken_lanes, broken, "{v}");
            assert!(metric(tl, "offsite_links_skipped") > 0.0, "{v}");
            assert!(metric(tl, "pages_per_s") > 0.0, "{v}");
            let max_in_flight = metric(tl, "max_in_flight");
            if v == "sequential" {
                // The guide's loop: breadth-first, one page at a time.
                assert_eq!(paths, reachable, "{v}");
                assert_eq!(max_in_flight, 1.0);
            } else {
                assert!(
                    max_in_flight > 1.0 && max_in_flight <= 4.0,
                    "{max_in_flight}"
                );
            }
            ports_closed(tl, "server_addr");
        }
    }

    #[test]
    fn the_page_budget_is_spent_at_enqueue_time() {
        let sets = [
            "pages=40",
            "seed=2",
            "latency_ms=5",
            "workers=4",
            "max_pages=12",
        ];
        let reachable = site(40, 2).reachable();
        assert!(reachable.len() > 12);
        let report = run("crawler", &[], &sets);
        for r in &report.runs {
            clean(r);
            let paths = fetched(&r.timeline);
            let unique: BTreeSet<&String> = paths.iter().collect();
            assert_eq!(paths.len(), 12, "{}", r.variant);
            assert_eq!(unique.len(), 12, "{}", r.variant);
            assert!(paths.iter().all(|p| reachable.contains(p)), "{}", r.variant);
            if r.variant == "sequential" {
                assert_eq!(paths, reachable[..12]);
            }
        }
    }

    #[test]
    fn cancelling_mid_crawl_closes_the_site() {
        let sets = ["pages=200", "latency_ms=500", "workers=3"];
        cancel_midway("crawler", "workers", &sets, 700, "server_addr");
    }
}
