//! Q5: many HTTP requests against a real server on 127.0.0.1, one after another, all at once,
//! bounded by a semaphore, and bounded by `buffer_unordered`; with the connections the shared
//! pool opened and reused.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::services::server::{Options, Server};
use crate::demo::services::{self, RUN_BUDGET, endpoints};
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};
use shown::Fanout;

pub struct HttpFanout;

variants! {
    pub enum Variant {
        Sequential => VariantSpec::real(
            "sequential",
            "await each request before sending the next: one in flight",
        ),
        JoinAll => VariantSpec::real(
            "join-all",
            "futures::future::join_all over every request: no bound at all",
        ),
        Semaphore => VariantSpec::real(
            "semaphore",
            "every request spawned at once; a Semaphore(limit) lets `limit` of them send",
        ),
        BufferUnordered => VariantSpec::real(
            "buffer-unordered",
            "a stream of requests through buffer_unordered(limit): only `limit` exist at a time",
        ),
    }
}

params! {
    pub struct Config {
        requests: usize = Int(1..=2000), "20", "how many GET requests to send";
        limit: usize = Int(1..=500), "5",
            "requests in flight at once (semaphore, buffer-unordered)";
        latency_ms: Duration = Ms(0..=5000), "100",
            "how long the server takes to answer each request";
        fail_pct: u64 = Int(0..=100), "10",
            "percent of requests the server fails with 500 (drawn from seed)";
        size: u64 = Int(0..=1_048_576), "1024", "response body size in bytes";
        seed: u64 = Seed(1_000_000), "1", "which requests fail";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "http-fanout",
    title: "Concurrent HTTP requests: unbounded, bounded, one by one",
    about: "Real GETs to a server the demo starts on 127.0.0.1, through one shared connection \
            pool. One by one, a single connection serves everything; all at once, every request \
            opens its own connection; with a semaphore or buffer_unordered, `limit` requests are \
            in flight and `limit` connections are reused for the rest.",
    variants: Variant::SPECS,
    default_variants: &[
        Variant::Sequential.name(),
        Variant::JoinAll.name(),
        Variant::Semaphore.name(),
        Variant::BufferUnordered.name(),
    ],
    params: Config::PARAMS,
    metrics: &[
        (
            "max_in_flight",
            "most requests waiting for the server at once",
        ),
        (
            "connections_opened",
            "TCP connections the server accepted: what the pool had to open",
        ),
        (
            "connection_reuses",
            "requests sent over a connection the pool already had open",
        ),
        ("requests_ok", "2xx answers"),
        ("requests_failed", "errors and non-2xx answers"),
        ("requests_per_s", "requests / the variant's wall time"),
        (
            "server_addr",
            "where the demo's server listened (closed after the run)",
        ),
    ],
    source: include_str!("http_fanout/shown.rs"),
    source_file: "src/demo/catalog/http_fanout/shown.rs",
};

impl DemoProgram for HttpFanout {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let query = format!(
            "latency_ms={}&fail_pct={}&size={}&seed={}",
            cfg.latency_ms.as_millis(),
            cfg.fail_pct,
            cfg.size,
            cfg.seed,
        );
        async move {
            let options = Options {
                conn_lanes: true,
                conn_series: Some("server_connections"),
                ..Options::default()
            };
            let server = match Server::start(&ctx, "server", options, endpoints::handler()).await {
                Ok(server) => server,
                Err(e) => return ctx.setup_failed("server", e).await,
            };
            ctx.metric("server_addr", server.addr().to_string());
            let client = match services::client() {
                Ok(c) => c,
                Err(e) => return ctx.setup_failed("client", e).await,
            };
            let urls: Vec<String> = (1..=cfg.requests)
                .map(|id| server.url(&format!("/data?id={id}&{query}")))
                .collect();
            let fan = Arc::new(Fanout {
                ctx: ctx.clone(),
                client,
                in_flight: ctx.gauge("in_flight"),
                tally: Arc::default(),
            });
            let limit = cfg.limit;
            let started = std::time::Instant::now();
            let work = async {
                match variant {
                    Variant::Sequential => shown::sequential(&fan, urls).await,
                    Variant::JoinAll => shown::join_all(&fan, urls).await,
                    Variant::Semaphore => shown::with_semaphore(&fan, urls, limit).await,
                    Variant::BufferUnordered => shown::buffer_unordered(&fan, urls, limit).await,
                }
            };
            if tokio::time::timeout(RUN_BUDGET, work).await.is_err() {
                ctx.mark("time budget reached: the rest is cancelled");
            }
            let secs = started.elapsed().as_secs_f64();
            let t = &fan.tally;
            ctx.metric("max_in_flight", fan.in_flight.max());
            ctx.metric("connections_opened", server.accepted());
            ctx.metric("connection_reuses", t.reused.load(Ordering::SeqCst));
            ctx.metric("requests_ok", t.ok.load(Ordering::SeqCst));
            ctx.metric("requests_failed", t.failed.load(Ordering::SeqCst));
            let rate = cfg.requests as f64 / secs.max(1e-9);
            ctx.metric("requests_per_s", (rate * 10.0).round() / 10.0);
            // Close the pool's connections, then the server and its port.
            drop(fan);
            server.stop().await;
        }
        .boxed()
    }
}
