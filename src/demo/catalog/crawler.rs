//! Q9: crawl a generated website served on 127.0.0.1: the guide's loop, which never has two
//! requests in flight, against N workers sharing one queue; a visited set, a same-site filter,
//! a page budget and broken links reported.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::Url;

use crate::demo::services::server::{Options, Server};
use crate::demo::services::site::{Site, SiteConfig};
use crate::demo::services::{self, RUN_BUDGET};
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, SetupError, VariantSpec, params, variants,
};
use shown::Crawl;

pub struct Crawler;

variants! {
    pub enum Variant {
        Sequential => VariantSpec::real(
            "sequential",
            "the guide's loop: take a URL, await its page, queue its links, repeat",
        ),
        Workers => VariantSpec::real(
            "workers",
            "`workers` tasks take URLs from one shared queue until none is left",
        ),
    }
}

params! {
    pub struct Config {
        pages: usize = Int(1..=2000), "30", "pages on the generated site";
        links: usize = Int(1..=10), "3", "links on each page";
        broken_pct: u64 = Int(0..=50), "10",
            "percent of links that point to a page that does not exist";
        offsite_pct: u64 = Int(0..=50), "10", "percent of links to another site (never fetched)";
        max_pages: usize = Int(1..=2000), "100", "the crawl's page budget: URLs fetched at most";
        workers: usize = Int(1..=64), "5", "concurrent workers (variant workers)";
        latency_ms: Duration = Ms(0..=2000), "50", "how long the server takes to answer each page";
        seed: u64 = Seed(1_000_000), "1", "the site's link graph";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "crawler",
    title: "A web crawler: one loop vs N workers",
    about: "Crawls a site the demo generates and serves on 127.0.0.1, from `/`, following \
            same-site links only. The guide's loop awaits one page at a time; N workers share \
            one queue and keep N pages in flight. Either way each URL is marked visited when \
            it is queued, so none is fetched twice, and broken links are reported.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Sequential.name(), Variant::Workers.name()],
    params: Config::PARAMS,
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
    source: include_str!("crawler/shown.rs"),
    source_file: "src/demo/catalog/crawler/shown.rs",
};

impl DemoProgram for Crawler {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let site = Arc::new(Site::generate(site_config(&cfg)));
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
            let client = match services::client() {
                Ok(client) => client,
                Err(e) => return ctx.setup_failed("crawler", e).await,
            };
            let start = match Url::parse(&server.url("/")) {
                Ok(start) => start,
                Err(e) => {
                    let e = SetupError::new("start URL", e);
                    return ctx.setup_failed("crawler", e).await;
                }
            };
            let crawl = Arc::new(Crawl::new(&ctx, client, start.clone(), cfg.max_pages));
            crawl.enqueue(start, "(start)");
            let started = std::time::Instant::now();
            let work = async {
                match variant {
                    Variant::Sequential => shown::sequential(&crawl).await,
                    Variant::Workers => shown::with_workers(&crawl, cfg.workers).await,
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

fn site_config(cfg: &Config) -> SiteConfig {
    SiteConfig {
        pages: cfg.pages,
        links: cfg.links,
        broken_pct: cfg.broken_pct,
        offsite_pct: cfg.offsite_pct,
        seed: cfg.seed,
        latency: cfg.latency_ms,
    }
}
